// A committee member's device in the key ceremony, as clients/ballots.py `CommitteeMember`, over the session state
// the tablet keeps (state.ceremonies.by_id[id]: spec, messages per step keyed by member id, keys when completed).
// No DOM and no I/O: js/committee.js sends what `next` returns and keeps what `sealSeed`/`finish` give.
//
// Surviving a reload: dkg.js `Member` draws its secrets — the communication key, then the t coefficients — from its
// rng when it is made. Here those 1 + t scalars are Hs("committee-dkg-state", seed, i) of one random seed scalar, so
// the device keeps only the seed, sealed under the member's passphrase by keystore.js (one scrypt, one 32-byte
// secret: the format of a key share, with zero joint key and fingerprint, which no round ever matches). After a
// reload the Member is made again from the seed and replays the steps the server already has from it (their
// outputs — fresh proof nonces and ephemerals — are thrown away; the shares dealt are the same polynomial's values).
import { hashScalar, fromHex, hexs, systemRng } from "./ballotcrypto/group.js";
import { Member } from "./ballotcrypto/dkg.js";
import { sealKeyShare, openKeyShare } from "./ballotcrypto/keystore.js";

export const STEPS = ["publish", "deal", "complain"];
const NO_KEY = "0".repeat(64); // the seed record is no key share: partialDecrypt refuses it (no round has this key)

/** The 1 + t scalars Member draws first, from the seed; anything later (proof nonces, ephemerals) from the CSPRNG. */
function seededRng(seedHex, count) {
  const seed = fromHex(seedHex);
  let i = 0;
  return { scalar: () => (i < count ? hashScalar("committee-dkg-state", seed, i++) : systemRng.scalar()) };
}

export function memberIndex(spec, me) {
  return spec.members.indexOf(me) + 1; // 0: not a member
}

/** The step's messages in member order, or null until every member has sent it. */
export function messagesOf(cer, step) {
  const got = cer.messages[step] || {};
  return cer.spec.members.every((m) => m in got) ? cer.spec.members.map((m) => got[m]) : null;
}

export const newSeed = () => hexs(systemRng.scalar());

export function sealSeed(spec, me, seed, passphrase, options) {
  const share = { ceremony_id: spec.ceremony_id, member: memberIndex(spec, me), secret: seed, joint_key: NO_KEY, fingerprint: NO_KEY };
  return sealKeyShare(share, passphrase, options);
}

/** The seed back from its sealed record (KeyStoreError on a wrong passphrase). */
export async function openSeed(record, passphrase, options) {
  const opened = await openKeyShare(record, passphrase, options);
  return opened.secret;
}

export class CeremonyDevice {
  constructor(spec, me, seed) {
    this.spec = spec;
    this.me = me;
    this.index = memberIndex(spec, me);
    if (!this.index) throw new Error(`${me} is not a member of ceremony ${spec.ceremony_id}`);
    this.member = new Member(spec, this.index, seededRng(seed, 1 + spec.threshold));
    this.done = new Set(); // steps this device has computed (sent now, or found on the server and replayed)
  }

  /**
   * Bring the Member up to what the server already has from this member (after a reload): each step found is
   * computed again and its output dropped. A step the server has whose replay fails means the ceremony state on
   * this device is not the one that sent it — thrown, the page says so.
   */
  replay(cer) {
    const mine = (step) => this.me in (cer.messages[step] || {});
    if (mine("publish") && !this.done.has("publish")) {
      const again = this.member.publish();
      if (again.comm_key !== cer.messages.publish[this.me].comm_key) {
        throw new Error("the publication on the server is not this device's (another device or passphrase?)");
      }
      this.done.add("publish");
    }
    if (mine("deal") && !this.done.has("deal")) {
      this.member.deal(messagesOf(cer, "publish"));
      this.done.add("deal");
    }
    if (mine("complain") && !this.done.has("complain")) {
      this.member.receive(messagesOf(cer, "deal"));
      this.done.add("complain");
    }
  }

  /** The next command to send as the state allows ({step, message}), or null (waiting for the others). */
  next(cer) {
    this.replay(cer);
    if (!this.done.has("publish")) return this.out("publish", this.member.publish());
    if (!this.done.has("deal")) {
      const pubs = messagesOf(cer, "publish");
      return pubs ? this.out("deal", this.member.deal(pubs)) : null;
    }
    if (!this.done.has("complain")) {
      const bundles = messagesOf(cer, "deal");
      return bundles ? this.out("complain", this.member.receive(bundles)) : null;
    }
    return null;
  }

  out(step, message) {
    this.done.add(step);
    return { type: "ceremony_step", ceremony_id: this.spec.ceremony_id, step, message };
  }

  /** Ready to finish: every complaint list in and the server's keys announced. */
  ready(cer) {
    return this.done.has("complain") && !!messagesOf(cer, "complain") && !!cer.keys;
  }

  /**
   * The key share, checked as CommitteeMember.finish: the joint key and fingerprint the transcript gives must be
   * the server's, or the share is not kept (the server, or the network, showed this device another ceremony).
   */
  finish(cer) {
    const { share } = this.member.finish(messagesOf(cer, "publish"), messagesOf(cer, "deal"), messagesOf(cer, "complain"));
    if (share.joint_key !== cer.keys.joint_key || share.fingerprint !== cer.keys.fingerprint) {
      throw new MismatchError();
    }
    return share;
  }
}

export class MismatchError extends Error {
  constructor() {
    super("the server's joint key or fingerprint is not the one this transcript gives");
    this.vi = "Khóa chung hoặc dấu vân tay máy chủ công bố KHÁC với khóa thiết bị tính từ biên bản phiên tạo khóa — không dùng khóa này, báo ngay Chủ tọa";
  }
}

/** "3f2a 9c01 …": the fingerprint's first 32 hex characters in groups of 4, to read aloud (docs/BALLOT-CRYPTO.md §5). */
export const fingerprintGroups = (hex) => hex.slice(0, 32).match(/.{4}/g).join(" ");
