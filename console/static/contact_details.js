// Crisis contact details on the case page: ask for them in the secure chat, and show the answers on request
// (each showing is audited on the server; nothing is fetched until the counsellor asks).
"use strict";

(() => {
  const { api, el, flash, time } = YCC;
  const section = document.getElementById("case-contact");
  if (!section) return;
  const id = section.dataset.conversationId;
  const notice = document.getElementById("contact-message");
  const list = document.getElementById("contact-list");

  function render(items) {
    if (!items.length) {
      list.replaceChildren(el("p", { class: "muted", text: "まだたずねていません。" }));
      return;
    }
    list.replaceChildren(...items.map((item) => el("div", { class: "contact-item", "data-contact": item.id },
      el("p", { class: "small muted", text: item.status === "submitted"
        ? `回答 ${time(item.submitted_at)}（たずねた日時 ${time(item.requested_at)}）`
        : `回答待ち（たずねた日時 ${time(item.requested_at)}）` }),
      item.unreadable ? el("p", { class: "field-error", text: "鍵が見つからないため表示できません（管理者に連絡してください）。" }) : null,
      item.answers.length ? el("dl", { class: "profile" },
        ...item.answers.flatMap((a) => [el("dt", { text: a.label }), el("dd", { text: a.value })])) : null)));
  }

  document.getElementById("contact-show").addEventListener("click", async () => {
    const result = await api("GET", `/api/conversations/${id}/contact-details`);
    if (result.ok) render(result.data.items);
    else flash(notice, result.data.message || "表示できませんでした（担当者とスーパーバイザーだけが見られます）。", "error");
  });

  document.getElementById("contact-ask").addEventListener("click", async () => {
    const result = await api("POST", `/api/conversations/${id}/contact-details`);
    if (result.ok) flash(notice, "安全な画面に連絡先のフォームを出しました。本人の回答を待ちましょう。", "ok");
    else flash(notice, result.data.message || "たずねられませんでした。", "error");
  });
})();
