// Crisis cases list: supervisors see every case, counsellors the cases of the chats they hold.
"use strict";

(() => {
  const { api, el, time, onLive, EVENTS } = YCC;
  const SOURCES = { lexicon: "言葉の検出", nlu: "ボットの判定", counsellor: "相談員の判断" };

  async function refresh() {
    const status = document.querySelector('input[name="case-status"]:checked').value;
    const result = await api("GET", `/api/escalations?status=${status}`);
    if (!result.ok) return;
    const rows = result.data.items.map((e) => el("tr", { class: e.status === "open" ? "row-crisis" : "" },
      el("td", {}, el("a", { href: `/console/cases/${e.id}`, text: `ケース #${e.id}` })),
      el("td", {}, el("a", { href: `/console/chat/${e.conversation_id}`, text: `相談 #${e.conversation_id}` })),
      el("td", { text: time(e.opened_at) }),
      el("td", { text: SOURCES[e.source] || e.source }),
      el("td", { text: e.in_hours ? "時間内" : "時間外" }),
      el("td", { text: `${e.steps.length - e.missing.length} / ${e.steps.length}` }),
      el("td", {}, el("span", { class: e.status === "open" ? "crisis-tag" : "status-tag", text: e.status === "open" ? "対応中" : "終了" }))));
    const body = document.getElementById("cases-body");
    body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 7, class: "muted", text: "該当するケースはありません。" }))]));
  }

  document.querySelectorAll('input[name="case-status"]').forEach((r) => r.addEventListener("change", refresh));
  onLive((event) => { if ([EVENTS.CRISIS, EVENTS.CASE].includes(event.type)) refresh(); });
  refresh();
})();
