// 情報配信: compose, count the recipients, send now or later; the list shows each delivery's progress.
"use strict";

(() => {
  const { api, el, time, flash } = YCC;
  const STATUS = { scheduled: "予約済み", sending: "送信中", paused: "一時停止", sent: "送信完了", empty: "該当者なし",
    cancelled: "中止" };
  const form = document.getElementById("broadcast-form");
  const note = document.getElementById("broadcast-flash");
  const countLine = document.getElementById("broadcast-count");

  function segment() {
    if (form.querySelector('input[name="audience"]:checked').value === "all") return {};
    const chosen = {};
    document.querySelectorAll(".segment-group").forEach((group) => {
      const field = group.dataset.field;
      const values = [...group.querySelectorAll("input:checked")].map((i) => i.value)
        .concat([...group.querySelectorAll("option:checked")].map((o) => o.value));
      if (values.length) chosen[field] = values;
    });
    return chosen;
  }

  function problem(result) {
    return (result.data && result.data.message) || "うまくいきませんでした。もう一度お試しください。";
  }

  // The chosen image as a data: URL (the API takes base64 in the same request); null when none is chosen.
  function imageData() {
    const file = document.getElementById("broadcast-image").files[0];
    if (!file) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  async function count() {
    const result = await api("POST", "/api/broadcasts/count", { segment: segment() });
    countLine.textContent = result.ok ? `いま配信すると ${result.data.recipients} 人に届きます。` : problem(result);
    return result.ok ? result.data.recipients : null;
  }

  form.querySelectorAll('input[name="audience"]').forEach((r) => r.addEventListener("change", () => {
    document.getElementById("segment-fields").hidden = form.audience.value !== "segment";
    count();
  }));
  form.querySelectorAll('input[name="when"]').forEach((r) => r.addEventListener("change", () => {
    document.getElementById("broadcast-send-at").hidden = form.when.value !== "later";
  }));
  document.getElementById("segment-fields").addEventListener("change", count);
  document.getElementById("broadcast-count-button").addEventListener("click", count);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const recipients = await count();
    if (recipients === null) return;
    const later = form.when.value === "later";
    const sendAt = later ? document.getElementById("broadcast-send-at").value : null;
    const question = later ? `${sendAt.replace("T", " ")} に ${recipients} 人へ配信します。よろしいですか？`
      : `${recipients} 人にいま配信します。よろしいですか？`;
    if (!window.confirm(question)) return;
    let image;
    try { image = await imageData(); } catch { flash(note, "画像のファイルが読めませんでした。", "error"); return; }
    const result = await api("POST", "/api/broadcasts", { text: form.text.value, segment: segment(),
      send_at: sendAt, silent: document.getElementById("broadcast-silent").checked, image });
    if (!result.ok) { flash(note, problem(result), "error"); return; }
    flash(note, `配信 #${result.data.id} を受け付けました（${result.data.recipients} 人）。`, "ok");
    form.text.value = "";
    document.getElementById("broadcast-image").value = "";
    refresh();
  });

  async function act(id, action) {
    const result = await api("POST", `/api/broadcasts/${id}/${action}`);
    flash(note, result.ok ? (action === "cancel" ? "配信を中止しました。" : "配信を再開しました。") : problem(result),
      result.ok ? "ok" : "error");
    refresh();
  }

  function actions(b) {
    const cell = el("td");
    if (b.status === "paused") {
      const resume = el("button", { class: "btn btn-small", type: "button", text: "再開" });
      resume.addEventListener("click", () => act(b.id, "resume"));
      cell.append(resume);
    }
    if (["scheduled", "paused", "sending"].includes(b.status)) {
      const stop = el("button", { class: "btn btn-small btn-danger-outline", type: "button", text: "中止" });
      stop.addEventListener("click", () => { if (window.confirm("この配信を中止しますか？")) act(b.id, "cancel"); });
      cell.append(stop);
    }
    return cell;
  }

  function statusText(b) {
    if (b.status === "paused") {
      const why = (b.last_error || "").includes("quota") ? "今月の送信数の上限" : "LINEの混雑";
      return `${STATUS.paused}（${why}。${time(b.resumes_at)}に再開）`;
    }
    return STATUS[b.status] || b.status;
  }

  async function refresh() {
    const result = await api("GET", "/api/broadcasts");
    if (!result.ok) return;
    const rows = result.data.items.map((b) => el("tr", { class: b.status === "paused" ? "row-concern" : "" },
      el("td", { text: `#${b.id}` }), el("td", { text: time(b.send_at) }), el("td", { text: statusText(b) }),
      el("td", { text: String(b.recipients) }), el("td", { text: String(b.sent) }),
      el("td", { text: String(b.skipped_blocked) }), el("td", { text: String(b.failed) }),
      el("td", { text: b.silent ? "なし" : "あり" }), actions(b)));
    document.getElementById("broadcasts-body").replaceChildren(...(rows.length ? rows
      : [el("tr", {}, el("td", { colspan: 9, class: "muted", text: "まだ配信はありません。" }))]));
  }

  count();
  refresh();
  setInterval(refresh, 5000);
})();
