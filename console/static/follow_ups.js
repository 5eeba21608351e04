// フォローアップ on the chat page: schedule one check-in for a person who agreed to it, see and cancel it.
"use strict";

(() => {
  const { api, el, time, flash } = YCC;
  const panel = document.getElementById("follow-up-panel");
  const id = document.getElementById("chat").dataset.conversationId;
  const form = document.getElementById("follow-up-form");
  const note = document.getElementById("follow-up-message");
  const STATUS = { scheduled: "予約済み", sent: "送信済み", answered: "返信あり", undeliverable: "届けられません",
    cancelled: "取り消し" };

  async function refresh() {
    const result = await api("GET", `/api/conversations/${id}/follow-ups`);
    panel.hidden = !result.ok || !result.data.may_schedule;  // the counsellor who held or recorded it; supervisors
    if (panel.hidden) return;
    const items = result.data.items.map((f) => {
      const row = el("li", { class: "feedback-item", "data-follow-up": f.id },
        el("strong", { text: STATUS[f.status] || f.status }), ` ${time(f.send_at)}${f.silent ? "（通知なし）" : ""}`,
        el("div", { class: "small", text: f.text }));
      if (f.status === "scheduled") {
        row.append(el("button", { class: "btn btn-small btn-quiet", type: "button", text: "取り消す",
          onclick: async () => {
            const done = await api("POST", `/api/follow-ups/${f.id}/cancel`);
            flash(note, done.ok ? "取り消しました。" : (done.data.message || "取り消せませんでした。"),
              done.ok ? "ok" : "error");
            refresh();
          } }));
      }
      return row;
    });
    document.getElementById("follow-up-list").replaceChildren(...items);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const sendAt = document.getElementById("follow-up-send-at").value;
    const result = await api("POST", `/api/conversations/${id}/follow-ups`, {
      text: document.getElementById("follow-up-text").value, send_at: sendAt || null,
      silent: document.getElementById("follow-up-silent").checked,
      consented: document.getElementById("follow-up-consented").checked });
    if (!result.ok) { flash(note, result.data.message || "予約できませんでした。", "error"); return; }
    flash(note, "フォローアップを予約しました。", "ok");
    form.reset();
    refresh();
  });

  refresh();
})();
