// The secure chat page: messages both ways, live over WebSocket, polling when a socket cannot stay open
// (some in-app browsers and proxies), delivery state per message, a clear way to leave. No third-party code.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const form = document.getElementById("compose");
  const input = document.getElementById("text");
  const pending = new Map(); // client_id -> text, until the stored turn comes back
  const WHO = { counsellor: "相談員", bot: "自動応答", system: "お知らせ" };
  let ended = false;
  let poll = null;

  function end(message) {
    ended = true;
    if (poll) clearInterval(poll);
    document.body.textContent = "";
    const main = document.createElement("main");
    main.className = "notice-page";
    const h1 = document.createElement("h1");
    h1.textContent = message;
    const p = document.createElement("p");
    p.textContent = "続きを話すときは、LINEのトークで「安全な画面を開く」を押して、新しいリンクを受け取ってください。";
    main.append(h1, p);
    document.body.append(main);
  }

  async function call(method, path, body) {
    const options = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = csrf;
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (response.status === 401) { end(data.message || "この画面は終了しました"); throw new Error("ended"); }
    return { ok: response.ok, status: response.status, data };
  }

  function bubble(item) {
    const div = document.createElement("div");
    div.className = "msg " + (item.from === "me" ? "me" : "them");
    if (item.from !== "me") {
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = WHO[item.from] || "お知らせ";
      div.append(who);
    }
    div.append(document.createTextNode(item.text));
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = item.from === "me" ? `${item.at || ""} ${item.state}` : item.at || "";
    div.append(meta);
    return div;
  }

  function buttons(titles) {
    const div = document.createElement("div");
    div.className = "replies";
    for (const title of titles) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = title;
      button.addEventListener("click", () => send({ reply: title }, title));
      div.append(button);
    }
    return div;
  }

  // The counsellor's contact form (crisis): answered here, never on LINE; sealed on the server.
  function contactForm(fields) {
    const box = document.createElement("form");
    box.id = "contact-form";
    box.className = "contact-form";
    const title = document.createElement("p");
    title.className = "who";
    title.textContent = "相談員から：わかるところだけ教えてください";
    box.append(title);
    for (const field of fields) {
      const label = document.createElement("label");
      label.textContent = field.label;
      const input = document.createElement("input");
      input.name = field.name;
      input.maxLength = field.max_length;
      if (field.name === "phone") { input.type = "tel"; input.autocomplete = "tel"; }
      const error = document.createElement("span");
      error.className = "field-error";
      error.dataset.field = field.name;
      label.append(input, error);
      box.append(label);
    }
    const formError = document.createElement("p");
    formError.className = "field-error";
    formError.dataset.field = "form";
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.textContent = "相談員に送る";
    box.append(formError, submit);
    box.addEventListener("submit", async (event) => {
      event.preventDefault();
      box.querySelectorAll(".field-error").forEach((node) => { node.textContent = ""; });
      const answers = Object.fromEntries(fields.map((f) => [f.name, box.elements[f.name].value]));
      let result;
      try { result = await call("POST", "/secure/api/contact-details", answers); } catch (e) { return; }
      if (result.ok) { box.remove(); status.textContent = "送りました。相談員だけが見られます。"; await load(); return; }
      for (const [name, message] of Object.entries(result.data.fields || { form: result.data.message || "送れませんでした。" })) {
        const node = box.querySelector(`.field-error[data-field="${name}"]`);
        if (node) node.textContent = message;
      }
    });
    return box;
  }

  async function send(body, shown) {
    status.textContent = "";
    let result;
    try { result = await call("POST", "/secure/api/messages", body); } catch (e) {
      if (!ended) status.textContent = "送れませんでした。通信の状態を確かめて、もう一度送ってください。";
      return false;
    }
    if (!result.ok) { status.textContent = result.data.message || "送れませんでした。"; return false; }
    if (result.data.client_id) pending.set(result.data.client_id, shown);
    await load();
    return true;
  }

  async function load() {
    if (ended) return;
    let result;
    try { result = await call("GET", "/secure/api/messages"); } catch (e) { return; }
    if (!result.ok) return;
    const seen = new Set();
    const nodes = result.data.items.map((item) => {
      if (item.client_id) seen.add(item.client_id);
      return bubble({ ...item, state: item.read ? "既読" : "送信済み" });
    });
    for (const id of seen) pending.delete(id);
    for (const text of pending.values()) nodes.push(bubble({ from: "me", text, at: "", state: "送信中" }));
    if (result.data.quick_replies.length) nodes.push(buttons(result.data.quick_replies));
    const open = document.getElementById("contact-form");
    if (result.data.contact_form) nodes.push(open || contactForm(result.data.contact_form));
    log.replaceChildren(...nodes);
    log.scrollTop = log.scrollHeight;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) { status.textContent = "メッセージを入力してください。"; return; }
    if (await send({ text }, text)) input.value = "";
  });

  document.getElementById("leave").addEventListener("click", async () => {
    try { await call("POST", "/secure/api/leave", {}); } catch (e) { return; }
    end("終了しました。LINEに戻ってください。");
  });

  document.getElementById("silent").addEventListener("change", async (event) => {
    try { await call("POST", "/secure/api/settings", { silent: event.target.checked }); } catch (e) { /* ended */ }
  });

  function fallback() {
    if (!poll && !ended) poll = setInterval(load, 4000);
  }

  function connect() {
    if (ended) return;
    let socket;
    try {
      socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/secure/live");
    } catch (e) { fallback(); return; }
    socket.addEventListener("open", () => { if (poll) { clearInterval(poll); poll = null; } load(); });
    socket.addEventListener("message", (event) => {
      let data = {};
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type !== "ping") load();
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) { load(); return; }
      fallback();
      setTimeout(connect, 10000);
    });
  }

  load();
  connect();
})();
