// The share page of an encrypted file: fetch the ciphertext, open it with
// the key in the link's fragment (never sent to the server), and offer the
// plaintext. The format is package crypt's, version 1:
//   header = "STRATOS\x01" | salt (32) | key check (16)
//   records of 64 KiB plaintext, AES-256-GCM, nonce = index (8, big-endian)
//   | 0 0 0 | 1 on the final record, associated data = the header.
"use strict";
(async function () {
  const RECORD = 65536, TAG = 16, HEADER = 56, MAGIC = "STRATOS\x01";
  const box = document.getElementById("sealed");
  const status = document.getElementById("status");
  const say = (msg, failed) => {
    status.textContent = msg;
    status.className = failed ? "err" : "";
    box.dataset.state = failed ? "failed" : box.dataset.state;
  };
  try {
    const frag = new URLSearchParams(location.hash.slice(1));
    const k64 = frag.get("k");
    if (!k64) {
      say("This link has no key: the owner's link ends in #k=…; copy it whole.", true);
      return;
    }
    const raw = Uint8Array.from(atob(k64.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    if (raw.length !== 32) {
      say("The key in this link is damaged; copy the link whole.", true);
      return;
    }
    const resp = await fetch(box.dataset.raw, { credentials: "same-origin" });
    if (!resp.ok) {
      say("The gateway answered " + resp.status + ": " + (await resp.text()), true);
      return;
    }
    const buf = new Uint8Array(await resp.arrayBuffer());
    const header = buf.subarray(0, HEADER);
    if (buf.length < HEADER + TAG || new TextDecoder().decode(header.subarray(0, 8)) !== MAGIC) {
      say("The stored file is not an encrypted Stratos file.", true);
      return;
    }
    // The key check tells a wrong key from altered data.
    const hk = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const check = new Uint8Array(await crypto.subtle.sign("HMAC", hk, new TextEncoder().encode("stratos/crypt/v1 key check")));
    if (!check.subarray(0, 16).every((b, i) => b === header[40 + i])) {
      say("Wrong key: this link's key does not open this file.", true);
      return;
    }
    const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
    const parts = [];
    for (let off = HEADER, i = 0; off < buf.length; i++) {
      const n = Math.min(RECORD + TAG, buf.length - off);
      const last = off + n === buf.length;
      const iv = new Uint8Array(12);
      new DataView(iv.buffer).setBigUint64(0, BigInt(i));
      iv[11] = last ? 1 : 0;
      try {
        parts.push(await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: header, tagLength: 128 }, key, buf.subarray(off, off + n)));
      } catch (e) {
        say("The file was altered: record " + i + " does not authenticate. Nothing was kept.", true);
        return;
      }
      off += n;
    }
    const blob = new Blob(parts, { type: box.dataset.type });
    if (blob.size !== Number(box.dataset.size)) {
      say("The file is cut short.", true);
      return;
    }
    box.blob = blob; // for scripts and tests on the page
    const url = URL.createObjectURL(blob);
    const kind = box.dataset.media;
    if (kind) {
      const el = document.createElement(kind === "image" ? "img" : kind);
      el.id = "media";
      if (kind !== "image") el.controls = true;
      el.src = url;
      document.getElementById("player").appendChild(el);
    }
    const dl = document.getElementById("download");
    dl.href = url;
    dl.download = box.dataset.name;
    dl.hidden = false;
    box.dataset.state = "open";
    say("Decrypted in this browser; the key never left it.");
  } catch (e) {
    say("Could not open the file: " + e, true);
  }
})();
