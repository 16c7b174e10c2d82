// What a committee member's tablet keeps in IndexedDB (docs/BALLOT-CRYPTO.md §13.3), per account and ceremony:
//
// - "dkg":    the ceremony in progress — one random scalar (the seed of the member's communication key and
//             polynomial), sealed under the member's passphrase by keystore.js, so a reload mid-ceremony resumes
//             after the passphrase is typed again. Deleted once the key share is kept.
// - "shares": the key share — the very JSON of the backup file (keystore.js sealKeyShare), sealed the same way.
//
// Its own database, not kyhop-offline: offline.js deletes another account's things when a shared tablet changes
// hands, and a member's sealed share must outlive that (it opens only with the member's passphrase anyway).
// Where IndexedDB is not available (a private window) nothing is kept: the page says so and the backup file is
// the member's only copy.

const IDB = "/vendor/idb/build/index.js"; // npm idb, served by this server (as offline.js)
const DB_NAME = "kyhop-committee";
const DB_VERSION = 1;

let opened = null;

function open() {
  opened ||= import(IDB)
    .then(({ openDB }) =>
      openDB(DB_NAME, DB_VERSION, {
        upgrade(db) {
          db.createObjectStore("dkg"); // "<account>|<ceremony>" -> sealed seed record
          db.createObjectStore("shares"); // "<account>|<ceremony>" -> sealed key share (the backup file's JSON)
        },
      }),
    )
    .catch(() => null);
  return opened;
}

const key = (account, ceremonyId) => `${account}|${ceremonyId}`;

export class CommitteeStore {
  constructor(account) {
    this.account = account; // the account's username: one member's things are never read by another account
  }

  async available() {
    return !!(await open());
  }

  async get(store, ceremonyId) {
    const db = await open();
    return db ? ((await db.get(store, key(this.account, ceremonyId))) ?? null) : null;
  }

  async put(store, ceremonyId, value) {
    const db = await open();
    if (db) await db.put(store, value, key(this.account, ceremonyId));
    return !!db;
  }

  async delete(store, ceremonyId) {
    const db = await open();
    if (db) await db.delete(store, key(this.account, ceremonyId));
  }
}
