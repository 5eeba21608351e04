// One crisis case: record each checklist step (time and name are added by the server), then close it.
"use strict";

(() => {
  const { api, el, flash, label, time } = YCC;
  const root = document.getElementById("case");
  const id = Number(root.dataset.escalationId);
  const notice = document.getElementById("case-message");

  // Counsellors' verdicts on the flag that opened this case (false alarm or another level), shown with the case.
  async function loadFeedback() {
    const section = document.getElementById("case-feedback");
    const messageId = Number(section.dataset.messageId) || null;
    const result = await api("GET", `/api/conversations/${root.dataset.conversationId}/safety-feedback`);
    if (!result.ok) return;
    const mine = result.data.items.filter((f) => f.escalation_id === id || (messageId && f.message_id === messageId));
    if (!mine.length) return;
    document.getElementById("case-feedback-list").replaceChildren(...mine.map((f) => el("li", {
      class: "feedback-item", "data-feedback": f.id },
      el("strong", { text: f.verdict === "false_alarm" ? "誤検知" : `レベルを${label("risk_level", f.level)}に変更` }),
      ` ${f.reason_label}`, f.note ? `（${f.note}）` : "",
      el("span", { class: "muted small", text: ` ${time(f.at)} ${f.author}` }))));
  }
  loadFeedback();

  document.querySelectorAll(".step-form").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const step = form.closest(".step").dataset.step;
      const done = event.submitter ? event.submitter.dataset.done === "true" : true;
      const result = await api("POST", `/api/escalations/${id}/steps`, { step, done, note: form.elements.note.value });
      if (result.ok) window.location.reload();
      else flash(notice, result.data.message || "記録できませんでした。", "error");
    });
  });

  const close = document.getElementById("close-form");
  if (close) {
    close.addEventListener("submit", async (event) => {
      event.preventDefault();
      close.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
      const result = await api("POST", `/api/escalations/${id}/close`, {
        outcome: close.elements.outcome.value, reason: close.elements.reason.value,
      });
      if (result.ok) { window.location.reload(); return; }
      for (const [field, msg] of Object.entries(result.data.fields || {})) {
        const p = close.querySelector(`.field-error[data-field="${field}"]`);
        if (p) p.textContent = msg;
      }
      flash(notice, result.data.message || "終了できませんでした。", "error");
    });
  }
})();
