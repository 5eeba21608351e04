// Queue page: waiting conversations (crisis first, then longest wait), my chats, and for supervisors all live chats.
"use strict";

(() => {
  const { api, el, label, consentLabel, time, waited, flash, beep, badge, onLive, role, userId, riskTag, ROLES } = YCC;
  const message = document.getElementById("queue-message");
  let known = null; // ids already seen, so only new arrivals make a sound
  let staff = [];

  function profileCell(c, key) {
    return label(key, c.contact.profile[key]);
  }

  function claimButton(c) {
    return el("button", {
      class: "btn btn-primary btn-small", text: "対応する", "data-claim": c.id,
      onclick: async () => {
        const result = await api("POST", `/api/conversations/${c.id}/assign`, {});
        if (result.ok) window.location.href = `/console/chat/${c.id}`;
        else flash(message, result.data.message || "担当できませんでした。", "error");
      },
    });
  }

  function assignSelect(c) {
    const select = el("select", { class: "assign-select", "aria-label": "担当者を選ぶ" },
      el("option", { value: "", text: c.status === "queued" ? "割り当て…" : "担当を変更…" }),
      staff.map((u) => el("option", { value: u.id,
        text: `${u.display_name}（${u.qualifications || "資格なし"}・${u.open_chats}/${u.max_chats}${u.online ? "" : "・不在"}）` })));
    select.addEventListener("change", async () => {
      if (!select.value) return;
      const result = await api("POST", `/api/conversations/${c.id}/assign`, { user_id: Number(select.value) });
      flash(message, result.ok ? "担当を設定しました。" : (result.data.message || "設定できませんでした。"),
        result.ok ? "ok" : "error");
      refresh();
    });
    return select;
  }

  const rowClass = (c) => (c.crisis ? "row-crisis" : c.risk === "concern" ? "row-concern" : "");

  function queueRow(c) {
    const suggested = c.suggested_assignee;
    return el("tr", { class: rowClass(c), "data-conversation": c.id, "data-risk": c.risk_level || "" },
      el("td", {}, riskTag(c.risk_level) || el("span", { class: "muted", text: c.priority > 0 ? "優先" : "通常" })),
      el("td", { class: "num-cell", text: waited(c.waiting_seconds) }),
      el("td", { text: profileCell(c, "age_band") }),
      el("td", { text: profileCell(c, "municipality") }),
      el("td", {}, el("span", { class: `elig elig-${c.contact.eligibility}`, text: label("eligibility", c.contact.eligibility) })),
      el("td", { text: consentLabel(c.contact.consent) }),
      el("td", { text: profileCell(c, "care_recipients") }),
      el("td", { text: c.queue_reason === "follow_up" ? "フォローアップの返信" : c.returning ? "再相談" : "初回" }),
      el("td", { text: suggested ? `${suggested.display_name}（${suggested.qualifications || "—"}）` : "—",
        title: `話題: ${label("topic", c.topic)}` }),
      el("td", { class: "actions" }, claimButton(c), role === ROLES.SUPERVISOR ? assignSelect(c) : null,
        el("a", { href: `/console/chat/${c.id}`, class: "btn btn-quiet btn-small", text: "見る" })));
  }

  function openRow(c, withAssign) {
    return el("tr", { class: rowClass(c), "data-risk": c.risk_level || "" },
      el("td", {}, el("a", { href: `/console/chat/${c.id}`, text: `相談 #${c.id}` }), riskTag(c.risk_level)),
      withAssign ? el("td", { text: c.assignee ? c.assignee.display_name : "—" })
        : el("td", { text: label("status", c.status) }),
      el("td", {}, c.unread ? el("span", { class: "unread", text: String(c.unread) }) : "0"),
      el("td", { text: time(c.last_message_at) }),
      withAssign ? el("td", {}, assignSelect(c)) : el("td", {}, el("a", {
        href: `/console/chat/${c.id}`, class: "btn btn-primary btn-small", text: "開く" })));
  }

  function fill(id, rows, empty, span) {
    const body = document.getElementById(id);
    if (!body) return;
    body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: span, class: "muted", text: empty }))]));
  }

  async function refresh() {
    const [queued, open] = await Promise.all([
      api("GET", "/api/conversations?status=queued&limit=1000"),
      api("GET", "/api/conversations?status=open&limit=1000"),
    ]);
    if (!queued.ok || !open.ok) return;
    const items = queued.data.items;
    const mine = open.data.items.filter((c) => c.assignee_id === userId);
    fill("queue-body", items.map(queueRow), "待っている相談はありません。", 10);
    fill("mine-body", mine.map((c) => openRow(c, false)), "対応中の相談はありません。", 5);
    if (role === ROLES.SUPERVISOR) fill("live-body", open.data.items.map((c) => openRow(c, true)), "対応中の相談はありません。", 5);
    const crisis = items.filter((c) => c.crisis).length + mine.filter((c) => c.crisis).length;
    document.getElementById("stat-queued").textContent = String(items.length);
    document.getElementById("stat-crisis").textContent = String(crisis);
    document.getElementById("stat-mine").textContent = String(mine.length);
    badge(items.length + mine.reduce((n, c) => n + (c.unread ? 1 : 0), 0), crisis > 0);
    const ids = new Set(items.map((c) => c.id));
    if (known !== null) {
      const fresh = items.filter((c) => !known.has(c.id));
      if (fresh.length) beep(fresh.some((c) => c.crisis));
    }
    known = ids;
  }

  async function loadStaff() {
    if (role !== ROLES.SUPERVISOR) return;
    const result = await api("GET", "/api/staff");
    if (result.ok) staff = result.data.items;
  }

  let timer = null;
  onLive(() => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 50);
  });
  setInterval(refresh, 30000);
  loadStaff().then(refresh);
})();
