// LINE simulator page: chat as one or several LINE users with the gateway, through the fake LINE platform.
// Plain JS, no build step, no CDN. Everything the page shows comes from the fake's control endpoints
// (`<api>/_fake/...`); user content is always set with textContent, never as HTML.
"use strict";

(function () {
  const API = document.querySelector('meta[name="fakeline-api"]').content.replace(/\/$/, "");
  const POLL_MS = 700;
  const STORE_KEY = "fakeline-simulator-users";
  // Stickers of LINE's free default package. The page has no image assets (and emoji fonts are not everywhere),
  // so each sticker is drawn as a coloured word badge.
  const STICKERS = [
    { packageId: "446", stickerId: "1988", label: "ありがとう", color: "#f59e0b", keywords: ["thanks"] },
    { packageId: "446", stickerId: "1989", label: "よろしく", color: "#10b981", keywords: ["hello"] },
    { packageId: "446", stickerId: "1990", label: "OK!", color: "#3b82f6", keywords: ["ok"] },
    { packageId: "446", stickerId: "1991", label: "つらい…", color: "#6366f1", keywords: ["sad"] },
    { packageId: "446", stickerId: "1992", label: "おつかれ", color: "#ec4899", keywords: ["tired"] },
    { packageId: "446", stickerId: "1993", label: "ごめんね", color: "#8b5cf6", keywords: ["sorry"] },
    { packageId: "446", stickerId: "1994", label: "うーん", color: "#64748b", keywords: ["thinking"] },
    { packageId: "446", stickerId: "1995", label: "またね", color: "#14b8a6", keywords: ["bye"] },
  ];
  const SYSTEM_LABELS = { follow: "友だち追加しました", unfollow: "ブロックしました" };
  const SUGGESTED_NAMES = ["あおい", "はると", "ゆい", "そうた", "めい", "りく"];

  const $ = (id) => document.getElementById(id);
  const state = { users: loadUsers(), current: null, timeline: [], failures: {}, lastRendered: "" };

  function loadUsers() {
    try {
      return JSON.parse(localStorage.getItem(STORE_KEY)) || [];
    } catch (_) {
      return [];
    }
  }
  function saveUsers() {
    localStorage.setItem(STORE_KEY, JSON.stringify(state.users));
  }

  async function api(path, options) {
    const init = Object.assign({ headers: { "Content-Type": "application/json" } }, options || {});
    const response = await fetch(API + path, init);
    let body = {};
    try {
      body = await response.json();
    } catch (_) {
      /* empty body */
    }
    return { status: response.status, body: body };
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function hhmm(iso) {
    const d = new Date(iso);
    // Times in Japan time: the service runs in Ishikawa, whatever the trainer's laptop is set to.
    const options = { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tokyo" };
    return isNaN(d) ? "" : d.toLocaleTimeString("ja-JP", options);
  }

  // ------------------------------------------------------------------ users
  async function addUser(name) {
    const displayName = name || SUGGESTED_NAMES[state.users.length % SUGGESTED_NAMES.length];
    const { status, body } = await api("/_fake/users", {
      method: "POST",
      body: JSON.stringify({ displayName: displayName }),
    });
    if (status !== 201) return;
    state.users.push({ userId: body.user.userId, displayName: displayName });
    saveUsers();
    selectUser(body.user.userId);
  }

  function currentUser() {
    return state.users.find((u) => u.userId === state.current) || null;
  }

  function selectUser(userId) {
    state.current = userId;
    state.timeline = [];
    state.lastRendered = "";
    $("sticker-panel").hidden = true;
    renderUsers();
    refresh();
  }

  function renderUsers(infoById) {
    const list = $("user-list");
    list.replaceChildren();
    for (const user of state.users) {
      const item = el("li");
      const button = el("button");
      button.type = "button";
      button.setAttribute("aria-current", String(user.userId === state.current));
      button.append(el("span", "mini-avatar", user.displayName.slice(0, 1)));
      const label = el("span");
      label.append(el("div", "name", user.displayName));
      const info = (infoById || {})[user.userId] || user.info;
      if (info) user.info = info;
      label.append(el("div", "state", info ? followLabel(info) : ""));
      button.append(label);
      button.addEventListener("click", () => selectUser(user.userId));
      item.append(button);
      list.append(item);
    }
    const user = currentUser();
    $("as-user").textContent = user ? user.displayName + " としてトーク中" : "ユーザーを追加してください";
  }

  function followLabel(info) {
    if (info.blocked) return "ブロック中";
    return info.following ? "友だち" : "友だち未追加";
  }

  // ------------------------------------------------------------------ sending
  async function sendEvent(spec) {
    const user = currentUser();
    if (!user) return null;
    spec.displayName = user.displayName;
    const { status, body } = await api("/_fake/users/" + encodeURIComponent(user.userId) + "/events", {
      method: "POST",
      body: JSON.stringify(spec),
    });
    if (status === 409) {
      showNotice("このアカウントをブロック中です。「友だち追加」を押すと、ふたたびメッセージを送れます。");
    } else if (status === 200 && !(body.webhook_status >= 200 && body.webhook_status < 300)) {
      const id = body.event && body.event.message ? body.event.message.id : null;
      if (id) state.failures[id] = body.event.webhookEventId;
      else showNotice("サーバーに届きませんでした(応答 " + body.webhook_status + ")。少し待ってからもう一度お試しください。");
    }
    await refresh();
    return body;
  }

  async function redeliver(messageId) {
    const eventId = state.failures[messageId];
    const { body } = await api("/_fake/redeliver/" + encodeURIComponent(eventId), { method: "POST" });
    if (body.webhook_status >= 200 && body.webhook_status < 300) delete state.failures[messageId];
    state.lastRendered = "";
    await refresh();
  }

  function tapQuickReply(action) {
    if (action.type === "postback") {
      sendEvent({ type: "postback", data: action.data, displayText: action.displayText || action.label });
    } else if (action.type === "message") {
      sendEvent({ type: "text", text: action.text || action.label });
    } else if (action.type === "uri") {
      window.open(action.uri, "_blank", "noopener");
    } else {
      showNotice("このボタン(" + action.type + ")はシミュレーターでは使えません。");
    }
  }

  // ------------------------------------------------------------------ rendering
  function showNotice(text) {
    const notice = $("notice");
    notice.textContent = text;
    notice.hidden = !text;
  }

  function renderItem(item) {
    if (item.from === "system") return el("div", "system", SYSTEM_LABELS[item.kind] || item.kind);
    const row = el("div", "row " + (item.from === "bot" ? "bot" : "user"));
    const meta = el("div", "meta");
    if (item.from === "user") {
      if (state.failures[item.id]) {
        meta.append(el("div", "failed", "未送信"));
        const retry = el("button", "", "再送");
        retry.type = "button";
        retry.addEventListener("click", () => redeliver(item.id));
        meta.append(retry);
      } else if (item.read) {
        meta.append(el("div", "", "既読"));
      }
    }
    if (item.via === "multicast") meta.append(el("div", "broadcast", "一斉配信"));
    if (item.silent) meta.append(el("div", "", "通知なし"));
    meta.append(el("div", "", hhmm(item.at)));
    let content;
    if (item.unsent) {
      content = el("div", "bubble unsent", "送信を取り消しました");
    } else if (item.kind === "sticker" && item.sticker) {
      const known = STICKERS.find((s) => s.stickerId === item.sticker.stickerId);
      content = el("div", "sticker", known ? known.label : "スタンプ");
      if (known) content.style.background = known.color;
      content.setAttribute("aria-label", "スタンプ");
    } else if (item.kind === "image" && item.from === "user") {
      content = el("div", "picture", "画像");
    } else if (item.kind === "image" && item.message && item.message.previewImageUrl) {
      // An image the account sent (an information delivery's): the preview, opening the original as LINE does.
      content = el("a", "picture");
      content.href = item.message.originalContentUrl;
      content.target = "_blank";
      content.rel = "noopener";
      const img = document.createElement("img");
      img.src = item.message.previewImageUrl;
      img.alt = "配信された画像";
      img.style.maxWidth = "200px";
      content.append(img);
    } else {
      content = el("div", "bubble", item.text);
    }
    if (item.from === "bot") {
      row.append(el("span", "avatar", "い"));
      const column = el("div");
      column.append(el("div", "bot-name", $("account-name").textContent));
      column.append(content);
      row.append(column, meta);
    } else {
      row.append(meta, content);
    }
    return row;
  }

  function render(data) {
    const signature = JSON.stringify([data.timeline, data.loading, data.user, state.failures]);
    if (signature === state.lastRendered) return;
    state.lastRendered = signature;
    const timeline = $("timeline");
    const nearBottom = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 80;
    timeline.replaceChildren(...data.timeline.map(renderItem));
    if (data.loading) {
      const typing = el("div", "row bot typing");
      typing.append(el("span", "avatar", "い"), el("div", "bubble", "・・・"));
      typing.setAttribute("aria-label", "入力中");
      timeline.append(typing);
    }
    if (nearBottom || data.timeline.length !== state.timeline.length) timeline.scrollTop = timeline.scrollHeight;
    state.timeline = data.timeline;

    // LINE shows quick replies only while the message that carries them is the latest one in the chat.
    const chips = $("quick-replies");
    chips.replaceChildren();
    const last = data.timeline[data.timeline.length - 1];
    const actions = last && last.from === "bot" && last.quickReply ? last.quickReply : [];
    for (const action of actions) {
      const chip = el("button", "chip", action.label || action.type);
      chip.type = "button";
      chip.addEventListener("click", () => tapQuickReply(action));
      chips.append(chip);
    }
    chips.hidden = actions.length === 0;

    const user = data.user;
    $("follow-btn").disabled = user.following;
    $("block-btn").disabled = user.blocked;
    for (const id of ["message-input", "send-btn", "sticker-btn", "image-btn"]) $(id).disabled = user.blocked;
    if (user.blocked) {
      showNotice("このアカウントをブロック中です。「友だち追加」を押すと、ふたたびメッセージを送れます。");
    } else if (!user.following) {
      showNotice("まだ友だち追加していません。「友だち追加」を押すと、はじめのあいさつが届きます。");
    } else {
      showNotice("");
    }
    renderUsers({ [user.userId]: user });
  }

  let inFlight = false;
  async function refresh() {
    const user = currentUser();
    if (!user || inFlight) return;
    inFlight = true;
    try {
      const { status, body } = await api("/_fake/users/" + encodeURIComponent(user.userId) + "/timeline");
      if (status === 200 && state.current === user.userId) render(body);
    } catch (_) {
      showNotice("シミュレーターに接続できません。サーバーが起動しているか確認してください。");
    } finally {
      inFlight = false;
    }
  }

  // ------------------------------------------------------------------ wiring
  function wire() {
    $("add-user").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("new-user-name");
      addUser(input.value.trim());
      input.value = "";
    });
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("message-input");
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      sendEvent({ type: "text", text: text });
    });
    $("follow-btn").addEventListener("click", () => sendEvent({ type: "follow" }));
    $("block-btn").addEventListener("click", () => sendEvent({ type: "unfollow" }));
    $("image-btn").addEventListener("click", () => sendEvent({ type: "image" }));
    $("sticker-btn").addEventListener("click", () => {
      $("sticker-panel").hidden = !$("sticker-panel").hidden;
    });
    for (const sticker of STICKERS) {
      const button = el("button", "sticker-choice", sticker.label);
      button.type = "button";
      button.style.background = sticker.color;
      button.setAttribute("aria-label", "スタンプ「" + sticker.label + "」");
      button.addEventListener("click", () => {
        $("sticker-panel").hidden = true;
        sendEvent({
          type: "sticker",
          packageId: sticker.packageId,
          stickerId: sticker.stickerId,
          keywords: sticker.keywords,
        });
      });
      $("sticker-panel").append(button);
    }
  }

  async function start() {
    wire();
    // Users the fake no longer knows (it was reset or restarted) are re-created under the same id.
    for (const user of state.users) {
      await api("/_fake/users", { method: "POST", body: JSON.stringify(user) });
    }
    if (state.users.length === 0) await addUser();
    else selectUser(state.users[0].userId);
    setInterval(refresh, POLL_MS);
  }

  start();
})();
