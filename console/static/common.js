// Shared helpers for console pages: API calls with the CSRF header, labels, time, live socket, alerts.
// Data from the API is always inserted with textContent (never innerHTML): message text comes from the public.
"use strict";

const YCC = (() => {
  const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
  const csrf = meta("csrf-token");
  const role = meta("user-role");
  const userId = Number(meta("user-id")) || null;
  const baseTitle = document.title;
  // Event types and roles as the server names them (console/render.py catalogue(), rendered into base.html).
  const CATALOGUE = JSON.parse((document.getElementById("ycc-catalogue") || {}).textContent || "{}");
  const EVENTS = CATALOGUE.events || {};
  const ROLES = CATALOGUE.roles || {};
  const isStaff = (CATALOGUE.staff || []).includes(role);
  const handlers = [];

  // Profile values (handoff/domain/profile.yml) and conversation statuses come with the page; the rest are the console's own.
  const LABELS = {
    ...(CATALOGUE.labels || {}),
    eligibility: { eligible: "対象", flagged: "要確認", refer: "対象外（紹介）", unknown: "未確認" },
    delivery: { pending: "送信中", sent: "送信済み", failed: "送信できませんでした", undeliverable: "届きません（ブロック）" },
    topic: { care: "ケア", career: "進路・仕事" },
    // Safety flags (issue 13), in queue order; emergency_other is a crisis of someone else (usually the person cared for).
    risk_level: { crisis: "危機", emergency_other: "救急（本人以外）", concern: "要確認" },
    // Category ids of a flag (the screen's, the safety dev set's, and the two given by the gateway); an id not
    // listed here is shown as it is.
    risk_reason: { nlu_crisis_intent: "ボットの判定のみ", counsellor: "相談員の判断", suicide: "死にたい気持ち",
      ideation_direct: "死にたい気持ち", ideation_indirect: "遠回しな死にたい気持ち", plan_means: "計画・手段",
      self_harm: "自傷", overdose: "薬の飲みすぎ", violence_abuse: "暴力・虐待", abuse_violence: "暴力・虐待",
      sexual_violence: "性暴力", runaway_strangers: "家出・知らない大人", guardian_child: "保護者から子どもの危険",
      buried_in_story: "長い話の中の危険なことば", multilingual: "英語・ローマ字などでの危険", danger_other: "その他の危険",
      hopelessness: "絶望感・疲れ切った気持ち", ambiguous: "はっきりしない危険のことば", bleeding: "出血",
      choking: "のどに詰まる", collapsed_unconscious: "倒れた・意識がない", not_breathing: "息をしていない",
      seizure_other: "けいれん・脳卒中の疑いなど", swallowed: "誤飲",
      // the screen's own category ids (data/safety.yml signals), so none of them reaches a counsellor in English
      suicide_plan: "自殺の計画・準備", runaway: "家出・居場所がない", violence: "暴力・ネグレクト",
      threat: "人を傷つけるおそれ", death_threat: "命をおびやかされている", harm_to_others: "ケアする家族に手をあげそう",
      plan_hint: "計画をにおわせることば", farewell: "別れのことば", collapsed: "倒れた・意識がない",
      seizure: "けいれん・発作", eating: "食べられない・食べ吐き", learned: "学習モデルの見立て",
      plan_timing: "決めた日時をにおわせることば", farewell_letters: "遺書・手紙を書いた", means_at_hand: "手段が手元にある",
      suicide_indirect: "遠回しな死にたい気持ち", high_place: "高い場所" },
  };

  // The queue's level tag: crisis and emergency_other in red, concern in amber; null when nothing was flagged.
  function riskTag(level) {
    if (!level) return null;
    return el("span", { class: level === "concern" ? "concern-tag" : "crisis-tag", "data-risk": level,
      text: label("risk_level", level) });
  }

  function label(kind, value) {
    if (value === null || value === undefined || value === "") return "—";
    if (Array.isArray(value)) return value.length ? value.map((v) => label(kind, v)).join("・") : "—";
    return (LABELS[kind] && LABELS[kind][value]) || String(value);
  }

  function consentLabel(value) {
    return value === true ? "同意あり" : value === false ? "同意なし" : "未回答";
  }

  // The API sends ISO 8601 in +09:00 already: show it as it is, no browser timezone involved.
  function time(iso, withDate = true) {
    if (!iso) return "";
    const [date, clock] = iso.split("T");
    const [, m, d] = date.split("-");
    return (withDate ? `${Number(m)}/${Number(d)} ` : "") + clock.slice(0, 5);
  }

  function waited(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 1) return "1分未満";
    if (minutes < 60) return `${minutes}分`;
    return `${Math.floor(minutes / 60)}時間${minutes % 60}分`;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Several requests and the live socket can learn at once that the session ended. Each new assignment to
  // location aborts the navigation before it, so the page goes to the login screen exactly once.
  let leaving = false;
  function toLogin() {
    if (leaving) return;
    leaving = true;
    window.location.assign("/console/login");
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      toLogin();
      return { ok: false, status: 401, data: {} };
    }
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    return { ok: response.ok, status: response.status, data };
  }

  function flash(node, text, kind) {
    if (!node) return;
    node.textContent = text;
    node.className = "flash" + (kind ? ` flash-${kind}` : "");
    node.hidden = !text;
  }

  let audio = null;
  document.addEventListener("click", () => {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === "suspended") audio.resume();
  });

  // A short tone for a new queue item, three urgent tones for a crisis.
  function beep(crisis) {
    if (!audio) { if (!window.AudioContext) return; audio = new AudioContext(); }
    const tones = crisis ? [880, 660, 880] : [660];
    tones.forEach((freq, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.value = 0.08;
      osc.connect(gain).connect(audio.destination);
      const start = audio.currentTime + i * 0.22;
      osc.start(start);
      osc.stop(start + 0.16);
    });
  }

  function badge(count, crisis) {
    document.title = (crisis ? "【危機】" : "") + (count ? `(${count}) ` : "") + baseTitle;
  }

  async function refreshCrisis() {
    const banner = document.getElementById("crisis-banner");
    if (!banner || !isStaff) return 0;
    const result = await api("GET", "/api/conversations?status=queued,open&limit=1000");
    if (!result.ok) return 0;
    const crisis = result.data.items.filter((c) => c.crisis && (c.status === "queued" || c.assignee_id === userId
      || role === ROLES.SUPERVISOR));
    banner.hidden = crisis.length === 0;
    if (crisis.length) {
      document.getElementById("crisis-banner-text").textContent =
        `${crisis.length}件：` + crisis.map((c) => `相談 #${c.id}（${label("status", c.status)}）`).join("、");
      const first = crisis[0];
      document.getElementById("crisis-banner-link").href =
        first.status === "queued" ? "/console/queue" : `/console/chat/${first.id}`;
    }
    document.body.classList.toggle("has-crisis", crisis.length > 0);
    return crisis.length;
  }

  let socket = null;
  let retry = 500;
  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/console/live`);
    socket.onopen = () => { retry = 500; document.getElementById("connection").hidden = true; };
    socket.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.type === EVENTS.PING || event.type === EVENTS.HELLO) return;
      if (event.type === EVENTS.CRISIS) { beep(true); refreshCrisis(); }
      handlers.forEach((fn) => fn(event));
    };
    socket.onclose = (close) => {
      if (close.code === 4401) { toLogin(); return; }
      document.getElementById("connection").hidden = false;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  function onLive(fn) { handlers.push(fn); }

  if (isStaff) {
    connect();
    refreshCrisis();
  }

  return { api, el, label, consentLabel, time, waited, flash, beep, badge, onLive, refreshCrisis, role, userId,
    csrf, LABELS, riskTag, EVENTS, ROLES };
})();
