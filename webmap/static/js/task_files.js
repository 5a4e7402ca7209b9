// The files of 交办任务 (/tasks on the desk, /m/tasks on the phone), shared by both pages: upload()
// sends each chosen file to POST /api/v1/attachments (status shows "n of m") and resolves to their
// ids; links() shows attachments as thumbnails opening the file. Text only as text nodes.
(function () {
  "use strict";
  if (window.TaskFiles) return;
  const { el, fmt, csrfToken, english, message } = Wangge;
  const reason = (a, status) => ((a.errors || []).map((e) => (english ? e.en : e.zh)).join("; ") || message(a) || String(status));

  async function upload(url, files, status, text) {
    const ids = [];
    for (let i = 0; i < files.length; i++) {
      status.textContent = fmt(text, { i: i + 1, n: files.length });
      const data = new FormData();
      data.append("file", files[i], files[i].name || "photo.jpg");
      const r = await fetch(url, { method: "POST", body: data, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() } });
      const answer = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(reason(answer, r.status));
      ids.push(answer.id);
    }
    status.textContent = "";
    return ids;
  }

  const links = (url, shas, label) => shas.map((sha, n) => el("a", { href: url + "/" + sha, target: "_blank", rel: "noopener",
    class: "tk-file" }, el("img", { src: url + "/" + sha, alt: fmt(label, { n: n + 1 }), loading: "lazy" })));

  window.TaskFiles = Object.freeze({ upload, links, reason });
})();
