// The phone's outbox (IndexedDB "wangge-outbox"), shared by the report page (store "reports"), the
// cases page (store "actions") and the visits page (store "visits"). An item is written to the phone first, with its own idempotency
// key, then sent: its photos one by one (each upload is idempotent by content; the ids are kept on
// the item between attempts), then its JSON with the key in Idempotency-Key, so that a resend after
// a lost answer is stored once. With no network the item waits and is sent when the network is back.
(function () {
  "use strict";
  const { openDatabase, transact, hex, csrfToken } = Wangge;
  const DB_NAME = "wangge-outbox";
  const STORES = ["reports", "actions", "visits"];
  const openDb = () => openDatabase(DB_NAME, 3, (db) => {
    for (const name of STORES) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: "key" });
  });

  // crypto.randomUUID needs a secure context; intranets often serve plain http
  const newKey = (prefix) => prefix + "-" + hex(crypto.getRandomValues(new Uint8Array(16)));

  // One store of the outbox. An item: {key, user, url, payload, files: [{name, blob}], photoIds,
  // state: "queued" | "rejected", reason, ...whatever the page keeps to show it}. Only the items of
  // the signed-in user (the account that wrote them) are listed and sent: on a phone shared by two
  // workers, one's queued action is never sent in the other's name.
  function outbox(name, attachmentsUrl, user) {
    const store = async (mode, fn) => transact(await openDb(), name, mode, fn);
    const put = (item) => store("readwrite", (s) => s.put({ user, ...item }));
    const remove = (key) => store("readwrite", (s) => s.delete(key));
    const all = async () => (await store("readonly", (s) => s.getAll())).filter((i) => !i.user || i.user === user);

    async function send(item, url) {
      const csrf = csrfToken();
      for (let i = item.photoIds.length; i < item.files.length; i++) {
        const form = new FormData();
        form.append("file", item.files[i].blob, item.files[i].name);
        const r = await fetch(attachmentsUrl, { method: "POST", body: form, credentials: "same-origin",
                                                headers: { "X-CSRFToken": csrf } });
        if (!r.ok) return r;
        item.photoIds.push((await r.json()).id);
        await put(item);
      }
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": item.key,
                   "X-CSRFToken": csrf },
        body: JSON.stringify({ ...item.payload, photos: item.photoIds }),
      });
    }

    // Send every queued item, oldest first; stops at the first network failure (offline: all
    // wait) or when the login has expired. on: {sent(item, answer), refused(item, answer, status),
    // login()}; a refused item stays on the phone, marked "rejected" with the server's answer.
    let flushing = false;
    async function flush(on, urlOf) {
      if (flushing) return;
      flushing = true;
      try {
        const items = (await all()).sort((a, b) => (a.created < b.created ? -1 : 1));
        for (const item of items) {
          if (item.state !== "queued") continue;
          let response;
          try {
            response = await send(item, urlOf ? urlOf(item) : item.url);
          } catch (_networkError) {
            break;
          }
          const answer = await response.json().catch(() => ({}));
          if (response.ok) {
            await remove(item.key);
            await on.sent(item, answer);
          } else if (response.status === 401) {
            on.login();
            break;
          } else {
            item.state = "rejected";
            item.status = response.status;
            item.answer = answer;
            await put(item);
            await on.refused(item, answer, response.status);
          }
        }
      } finally {
        flushing = false;
      }
    }
    return Object.freeze({ put, remove, all, flush });
  }

  window.PhoneQueue = Object.freeze({ outbox, newKey });
})();
