// HTTP side of the pages: sign-in (token kept in localStorage), REST reads, and the bilingual error shape.

const TOKEN_KEY = "kyhop.token";
const ACCOUNT_KEY = "kyhop.account";
const EXPIRES_KEY = "kyhop.expires_at";
const SESSION_KEY = "kyhop.session";

/** A refusal or failure from the server, always with a Vietnamese and an English message. */
export class ApiError extends Error {
  constructor(code, messageVi, messageEn, status = 0) {
    super(messageEn || messageVi || code);
    this.code = code;
    this.message_vi = messageVi || messageEn || code;
    this.message_en = messageEn || messageVi || code;
    this.status = status;
  }

  static from(body, status = 0) {
    if (body && typeof body === "object" && body.code) {
      return new ApiError(body.code, body.message_vi, body.message_en, body.status || status);
    }
    return new ApiError("http_error", `Lỗi máy chủ (HTTP ${status}).`, `Server error (HTTP ${status}).`, status);
  }
}

export const NETWORK_ERROR = () =>
  new ApiError("network", "Không kết nối được máy chủ. Vui lòng thử lại.", "Cannot reach the server. Please retry.");

/** A client-made command id: crypto.randomUUID where the page is a secure context (https, localhost), else
 * 122 random bits from getRandomValues, which works over plain http on a hall's LAN too. */
export function newId() {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === "function") {
    return globalThis.crypto.randomUUID();
  }
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The signed-in account, or null when there is none or its token has expired. */
export function saved() {
  const token = localStorage.getItem(TOKEN_KEY);
  const raw = localStorage.getItem(ACCOUNT_KEY);
  if (!token || !raw) return null;
  const expires = Number(localStorage.getItem(EXPIRES_KEY) || 0);
  if (expires && expires * 1000 < Date.now()) {
    forget();
    return null;
  }
  try {
    return { token, account: JSON.parse(raw), expires_at: expires };
  } catch {
    forget();
    return null;
  }
}

export function forget() {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(ACCOUNT_KEY);
  localStorage.removeItem(EXPIRES_KEY);
}

export function hasRole(account, ...roles) {
  return !!account && account.roles.some((r) => roles.includes(r));
}

// The server time minus this browser's time, in ms, from the Date header of the last response (1 s resolution,
// so only a skew of more than ~1.5 s is corrected). Countdowns use it so every screen shows the same time left.
let clockOffset = 0;
export function serverNow() {
  return Date.now() + clockOffset;
}

function learnClock(response, sentAt) {
  const date = response.headers.get("date");
  if (!date) return;
  const server = Date.parse(date);
  if (Number.isNaN(server)) return;
  const local = (sentAt + Date.now()) / 2;
  const offset = server + 500 - local;
  clockOffset = Math.abs(offset) > 1500 ? offset : 0;
}

/** fetch() a JSON route; throws ApiError with the server's bilingual message on any failure. */
export async function api(method, path, body = undefined, { token = undefined } = {}) {
  const headers = { accept: "application/json" };
  const auth = token === undefined ? saved()?.token : token;
  if (auth) headers.authorization = `Bearer ${auth}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const sentAt = Date.now();
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw NETWORK_ERROR();
  }
  learnClock(response, sentAt);
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw ApiError.from(data, response.status);
  return data;
}

export async function login(username, password) {
  return keepSignIn(await api("POST", "/api/auth/login", { username, password }, { token: null }));
}

/** Keep a sign-in answer ({token, expires_at, account}) on this device; a password or a device code gave it. */
export function keepSignIn(out) {
  localStorage.setItem(TOKEN_KEY, out.token);
  localStorage.setItem(ACCOUNT_KEY, JSON.stringify(out.account));
  localStorage.setItem(EXPIRES_KEY, String(out.expires_at || 0));
  return out.account;
}

export async function logout() {
  const s = saved();
  forget();
  if (s) {
    try {
      await api("POST", "/api/auth/logout", undefined, { token: s.token });
    } catch {
      // Signed out on this device either way.
    }
  }
}

/** The session a page shows: ?session=… in the address, else the last one chosen on this device. */
export function chosenSession() {
  const fromUrl = new URLSearchParams(location.search).get("session");
  if (fromUrl) {
    localStorage.setItem(SESSION_KEY, fromUrl);
    return fromUrl;
  }
  return localStorage.getItem(SESSION_KEY);
}

export function rememberSession(id) {
  localStorage.setItem(SESSION_KEY, id);
}
