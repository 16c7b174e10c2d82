// A multipart upload with progress: XMLHttpRequest, because fetch() reports no upload progress in Chromium
// without streaming request bodies (which need HTTP/2). The fields go first and the file LAST: the server
// reads the fields before it writes a byte of the file (docs/DOCUMENTS.md §1).

import { ApiError, NETWORK_ERROR, newId, saved } from "../api.js";

/**
 * POST `fields` then `file` (or no file) to `path`; `onProgress(fraction)` while the bytes go out.
 * Resolves with the JSON answer; rejects with the server's bilingual ApiError.
 */
export function upload(path, fields, file, onProgress = () => {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries({ id: newId(), ...fields })) {
    if (v !== null && v !== undefined && v !== "") form.append(k, String(v));
  }
  if (file) form.append("file", file, file.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("accept", "application/json");
    const token = saved()?.token;
    if (token) xhr.setRequestHeader("authorization", `Bearer ${token}`);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && e.total) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body);
      } else reject(ApiError.from(body, xhr.status));
    });
    xhr.addEventListener("error", () => reject(NETWORK_ERROR()));
    xhr.addEventListener("abort", () => reject(NETWORK_ERROR()));
    xhr.send(form);
  });
}
