// The files of 交办任务 (/tasks on the desk, /m/tasks on the phone), shared by both pages: upload()
// sends each chosen file (a PDF or a photo) to POST /api/v1/attachments (status shows "n of m") and
// resolves to their ids; links() shows attachments as thumbnails (a PDF as its label) opening the file. Text only as text nodes.
(function () {
  "use strict";
  if (window.TaskFiles) return;
  const { el, fmt } = Wangge;
  const reason = Wangge.reasons;

  async function upload(url, files, status, text) {
    const ids = await Wangge.uploadFiles(url, files, { document: true,
      progress: (i, n) => { status.textContent = fmt(text, { i, n }); } });
    status.textContent = "";
    return ids;
  }

  // a photo as its thumbnail; a file that is not an image (a PDF) as its label
  const thumb = (src, alt) => el("img", { src, alt, loading: "lazy",
    onerror: (e) => e.target.replaceWith(document.createTextNode(alt)) });
  const links = (url, shas, label) => shas.map((sha, n) => el("a", { href: url + "/" + sha, target: "_blank", rel: "noopener",
    class: "tk-file" }, thumb(url + "/" + sha, fmt(label, { n: n + 1 }))));

  window.TaskFiles = Object.freeze({ upload, links, reason });
})();
