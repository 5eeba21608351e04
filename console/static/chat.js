// Chat page: history with bot and human turns, composer with templates and notes, read receipts, resolve form.
"use strict";

(() => {
  const { api, el, label, consentLabel, time, flash, onLive, role, userId, ROLES } = YCC;
  const root = document.getElementById("chat");
  const id = Number(root.dataset.conversationId);
  const history = document.getElementById("history");
  const notice = document.getElementById("chat-message");
  const composer = document.getElementById("composer");
  const text = document.getElementById("composer-text");
  let conversation = null;
  let lastTyping = 0;
  let templatesLoaded = false;

  const holder = () => conversation && conversation.status === "open" && conversation.assignee_id === userId;

  function profileRows(c) {
    const p = c.contact.profile;
    const rows = [
      ["状態", label("status", c.status) + (c.assignee ? `（${c.assignee.display_name}）` : "")],
      ["同意", consentLabel(c.contact.consent)],
      ["対象判定", label("eligibility", c.contact.eligibility)],
      ["年代", label("age_band", p.age_band)],
      ["市町", label("municipality", p.municipality)],
      ["ケアの相手", label("care_recipients", p.care_recipients)],
      ["ケアの内容", label("care_kinds", p.care_kinds)],
      ["いまの状況", label("situation", p.situation)],
      ["相談者", label("role", p.role)],
      ["再相談", c.returning ? "はい" : "いいえ"],
      ["待ち始め", time(c.waiting_since)],
      ["LINE", c.contact.following ? "友だち" : "ブロック中（返信は届きません）"],
    ];
    return rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]);
  }

  async function loadConversation() {
    const result = await api("GET", `/api/conversations/${id}`);
    if (!result.ok) { flash(notice, result.data.message || "この相談を表示できません。", "error"); return; }
    conversation = result.data;
    const c = conversation;
    document.getElementById("chat-status").textContent = label("status", c.status);
    const tag = document.getElementById("chat-crisis");
    tag.hidden = !c.crisis;
    tag.textContent = label("risk_level", c.risk_level || "crisis");
    const banner = document.getElementById("chat-case-banner");
    banner.hidden = !c.escalation_id;
    const level = c.risk_level === "emergency_other" ? "emergency_other" : "crisis";
    banner.querySelectorAll("[data-level]").forEach((node) => { node.hidden = node.dataset.level !== level; });
    document.getElementById("chat-concern-banner").hidden = c.risk !== "concern";
    document.getElementById("chat-concern-reason").textContent = label("risk_reason", c.risk_reason);
    document.getElementById("chat-sub").textContent =
      `待ち始め ${time(c.waiting_since) || "—"} ・ 話題 ${label("topic", c.topic)}`;
    document.getElementById("profile").replaceChildren(...profileRows(c));
    document.getElementById("btn-claim").hidden = c.status !== "queued";
    document.getElementById("btn-release").hidden = !(c.status === "open" && (holder() || role === ROLES.SUPERVISOR));
    document.getElementById("btn-escalate").hidden = Boolean(c.escalation_id) || !(holder() || role === ROLES.SUPERVISOR);
    document.getElementById("btn-secure-link").hidden = !(holder() || role === ROLES.SUPERVISOR);
    document.getElementById("chat-status").textContent += c.channel === "web" ? "・安全な画面" : "";
    const link = document.getElementById("link-case");
    link.hidden = !c.escalation_id;
    if (c.escalation_id) link.href = `/console/cases/${c.escalation_id}`;
    composer.hidden = !holder();
    document.getElementById("resolve-panel").hidden = !(holder() || (role === ROLES.SUPERVISOR && ["open", "queued"].includes(c.status)));
    document.getElementById("templates-panel").hidden = !holder();
    if (holder() && !templatesLoaded) loadTemplates();
  }

  function deliveryMark(m) {
    if (m.direction !== "out" || m.internal || !m.delivery) return null;
    const cls = m.delivery === "sent" ? "delivery ok" : m.delivery === "pending" ? "delivery pending" : "delivery bad";
    return el("span", { class: cls, "data-delivery": m.delivery, text: label("delivery", m.delivery) });
  }

  function messageItem(m) {
    const who = m.internal ? `内部メモ・${m.agent ? m.agent.display_name : ""}`
      : m.sender === "agent" && m.agent ? `相談員・${m.agent.display_name}` : m.sender_label;
    let body = m.text;
    if (m.unsent) body = "（利用者が送信を取り消しました）";
    else if (body === null) body = `［${m.kind}］（受け取っていません）`;
    const classes = ["msg", m.direction === "in" ? "msg-in" : "msg-out", `msg-${m.sender}`];
    if (m.internal) classes.push("msg-note");
    if (m.crisis) classes.push("msg-crisis");
    if (m.risk_level === "concern") classes.push("msg-concern");
    if (m.delivery === "failed" || m.delivery === "undeliverable") classes.push("msg-undelivered");
    return el("li", { class: classes.join(" "), "data-message-id": m.id },
      el("div", { class: "msg-meta" }, el("span", { class: "msg-who", text: who }),
        el("span", { class: "msg-time", text: time(m.at) }),
        el("span", { class: "muted", "data-channel": m.channel, text: m.channel === "web" ? "安全な画面" : "LINE" }),
        m.direction === "in" && m.read_at ? el("span", { class: "muted", text: "既読" }) : null, deliveryMark(m),
        m.risk_level ? el("span", { class: "flag-mark", "data-flag": m.risk_level,
          text: `フラグ：${label("risk_level", m.risk_level)}（${label("risk_reason", m.risk_category)}）` }) : null),
      el("div", { class: "bubble", text: body }));
  }

  async function loadMessages() {
    const result = await api("GET", `/api/conversations/${id}/messages`);
    if (!result.ok) return;
    const atBottom = history.scrollHeight - history.scrollTop - history.clientHeight < 60;
    history.replaceChildren(...result.data.items.map(messageItem));
    if (atBottom || !history.dataset.loaded) history.scrollTop = history.scrollHeight;
    history.dataset.loaded = "1";
    markRead(result.data.items);
    loadFeedback(result.data.items.filter((m) => m.risk_level && m.direction === "in"));
  }

  // LINE shows 既読 only when a person has actually had the message on screen.
  async function markRead(items) {
    if (!holder() || document.visibilityState !== "visible") return;
    if (!items.some((m) => m.direction === "in" && !m.read_at)) return;
    await api("POST", `/api/conversations/${id}/read`);
  }

  async function loadTemplates() {
    templatesLoaded = true;
    const municipality = conversation.contact.profile.municipality || "";
    const result = await api("GET", `/api/templates?municipality=${encodeURIComponent(municipality)}`);
    if (!result.ok) return;
    const select = document.getElementById("template-select");
    const texts = [];
    for (const group of result.data.groups) {
      const optgroup = el("optgroup", { label: group.title });
      for (const item of group.items) {
        texts.push(item.text);
        optgroup.append(el("option", { value: String(texts.length - 1), text: item.title }));
      }
      select.append(optgroup);
    }
    select.addEventListener("change", () => {
      if (select.value === "") return;
      text.value = text.value ? `${text.value}\n${texts[Number(select.value)]}` : texts[Number(select.value)];
      select.value = "";
      text.focus();
    });
  }

  // Safety flags (issue 13): the counsellor marks a flag a false alarm or gives it another level, with a reason.
  const feedbackForm = document.getElementById("feedback-form");
  let reasons = null;

  function fillReasons() {
    const verdict = feedbackForm.querySelector('input[name="verdict"]:checked').value;
    document.getElementById("feedback-level-row").hidden = verdict !== "change_level";
    document.getElementById("feedback-reason").replaceChildren(el("option", { value: "", text: "理由を選ぶ…" }),
      ...Object.entries(reasons[verdict]).map(([key, text]) => el("option", { value: key, text })));
  }

  const verdictText = (f) => (f.verdict === "false_alarm" ? "誤検知"
    : `${label("risk_level", f.flagged_level)} → ${label("risk_level", f.level)}`);

  async function loadFeedback(flagged) {
    const panel = document.getElementById("feedback-panel");
    panel.hidden = flagged.length === 0;
    if (!flagged.length) return;
    const result = await api("GET", `/api/conversations/${id}/safety-feedback`);
    if (!result.ok) return;
    if (!reasons) { reasons = result.data.reasons; fillReasons(); }
    const select = document.getElementById("feedback-flag");
    const chosen = select.value;
    select.replaceChildren(...flagged.map((m) => el("option", { value: String(m.id),
      text: `${time(m.at)} ${label("risk_level", m.risk_level)}（${label("risk_reason", m.risk_category)}）` })));
    if (chosen) select.value = chosen;
    document.getElementById("feedback-list").replaceChildren(...result.data.items.map((f) => el("li", {
      class: "feedback-item", "data-feedback": f.id },
      el("strong", { text: verdictText(f) }), ` ${f.reason_label}`, f.note ? `（${f.note}）` : "",
      el("span", { class: "muted small", text: ` ${time(f.at)} ${f.author}` }))));
  }

  feedbackForm.addEventListener("change", (event) => { if (event.target.name === "verdict") fillReasons(); });
  feedbackForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    feedbackForm.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
    const verdict = feedbackForm.querySelector('input[name="verdict"]:checked').value;
    const body = { message_id: Number(feedbackForm.elements.flag.value), verdict,
      reason: feedbackForm.elements.reason.value, note: feedbackForm.elements.note.value };
    if (verdict === "change_level") body.level = feedbackForm.elements.level.value;
    const result = await api("POST", `/api/conversations/${id}/safety-feedback`, body);
    if (result.ok) {
      feedbackForm.elements.note.value = "";
      flash(notice, "見直しを記録しました。", "ok");
      loadMessages();
      return;
    }
    for (const [field, msg] of Object.entries(result.data.fields || {})) {
      const p = feedbackForm.querySelector(`.field-error[data-field="${field}"]`);
      if (p) p.textContent = msg;
    }
    flash(notice, result.data.message || "記録できませんでした。", "error");
  });

  async function refresh() {
    await loadConversation();
    await loadMessages();
  }

  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    const mode = composer.querySelector('input[name="mode"]:checked').value;
    const path = mode === "note" ? `/api/conversations/${id}/notes` : `/api/conversations/${id}/messages`;
    document.getElementById("btn-send").disabled = true;
    const result = await api("POST", path, { text: value });
    document.getElementById("btn-send").disabled = false;
    if (result.ok) { text.value = ""; flash(notice, ""); loadMessages(); }
    else flash(notice, result.data.message || "送信できませんでした。", "error");
  });

  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) composer.requestSubmit();
  });
  text.addEventListener("input", () => {
    const mode = composer.querySelector('input[name="mode"]:checked').value;
    if (mode !== "message" || Date.now() - lastTyping < 10000) return;
    lastTyping = Date.now();
    api("POST", `/api/conversations/${id}/typing`);
  });

  document.getElementById("btn-claim").addEventListener("click", async () => {
    const result = await api("POST", `/api/conversations/${id}/assign`, {});
    if (!result.ok) flash(notice, result.data.message || "担当できませんでした。", "error");
    refresh();
  });
  document.getElementById("btn-release").addEventListener("click", async () => {
    if (!window.confirm("この相談を待ち行列に戻しますか？")) return;
    const result = await api("POST", `/api/conversations/${id}/release`);
    if (result.ok) window.location.href = "/console/queue";
    else flash(notice, result.data.message || "戻せませんでした。", "error");
  });
  document.getElementById("btn-secure-link").addEventListener("click", async () => {
    const result = await api("POST", `/api/conversations/${id}/secure-link`, {});
    if (result.ok) flash(notice, "安全な画面へのリンクをLINEで送りました。", "ok");
    else flash(notice, result.data.message || "送れませんでした。", "error");
    refresh();
  });
  document.getElementById("btn-escalate").addEventListener("click", async () => {
    if (!window.confirm("危機対応ケースを開き、スタッフに通知しますか？")) return;
    const result = await api("POST", `/api/conversations/${id}/escalate`);
    if (result.ok) window.location.href = `/console/cases/${result.data.id}`;
    else flash(notice, result.data.message || "開けませんでした。", "error");
  });

  const form = document.getElementById("resolve-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const checked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
    const choice = (name) => { const v = checked(name)[0]; return v === undefined ? null : v === "yes"; };
    const body = {
      topics: checked("topics"), care_recipients: checked("care_recipients"), referral_made: choice("referral_made"),
      referral: form.elements.referral.value, follow_up: choice("follow_up"), summary: form.elements.summary.value,
      survey: checked("survey")[0] === "auto" ? null : choice("survey"),
    };
    form.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
    const result = await api("POST", `/api/conversations/${id}/resolve`, body);
    if (result.ok) {
      flash(notice, "記録しました。利用者はボット対応に戻りました。", "ok");
      setTimeout(() => { window.location.href = "/console/queue"; }, 800);
      return;
    }
    for (const [field, msg] of Object.entries(result.data.fields || {})) {
      const p = form.querySelector(`.field-error[data-field="${field}"]`);
      if (p) p.textContent = msg;
    }
    flash(notice, result.data.message || "記録できませんでした。", "error");
  });

  let timer = null;
  onLive((event) => {
    if (event.conversation_id !== id) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, 30);
  });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") loadMessages(); });
  refresh();
})();
