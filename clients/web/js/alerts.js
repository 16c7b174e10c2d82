// What asks for a delegate's attention now, most urgent first: a ballot to cast (or in flight), the floor, a
// question called, then a document that arrived. Each names the panel that comes first on the screen.
//
// `ctx`: me (the person id), isDelegate, sending(type, field, id) (the pending command, if any), arrived (the
// documents that arrived and that this person may read), title(id), open(id, page) (the reader).

import { POLL_KIND } from "./ui.js";
import { openRounds } from "./views.js";

export function whatIsAsked(state, ctx) {
  const { me, isDelegate, sending: inFlight } = ctx;
  const out = [];
  if (isDelegate) {
    const hall = state.hall;
    for (const r of openRounds(state)) {
      if (r.voted.includes(me) || r.paper || !r.eligible.includes(me)) continue;
      if (hall.rules.presence_required && !hall.present.includes(me)) continue;
      const sending = inFlight("vote_cast_ballot", "round_id", r.id) || inFlight("vote_cast_encrypted", "round_id", r.id);
      out.push(
        sending
          ? { key: `sending:${r.id}`, panel: "#vote", text: "Phiếu của bạn đang được gửi — chờ máy chủ ghi nhận.", action: "Xem phiếu" }
          : { key: `vote:${r.id}`, panel: "#vote", text: `Đang biểu quyết: ${r.motion}`, action: "Biểu quyết ngay" },
      );
    }
    for (const p of Object.values(state.polls.polls)) {
      if (p.status === "open" && p.eligible.includes(me) && !p.voted.includes(me)) {
        const sending = inFlight("cast_poll_ballot", "poll_id", p.id) || inFlight("poll_cast_encrypted", "poll_id", p.id);
        const text = sending ? "Phiếu tín nhiệm của bạn đang được gửi — chờ máy chủ ghi nhận." : `Đang lấy phiếu: ${POLL_KIND[p.kind] || p.kind}`;
        out.push({ key: `${sending ? "sending" : "poll"}:${p.id}`, panel: "#poll", text, action: sending ? "Xem phiếu" : "Bỏ phiếu ngay" });
      }
    }
  }
  const speech = state.speakers.current;
  if (speech && speech.delegate_id === me) {
    out.push({ key: `speech:${speech.request_id || speech.ends_at}`, panel: "#floor", text: "Chủ tọa mời bạn phát biểu.", action: "Xem thời gian" });
  }
  const turn = state.questioning.floor;
  if (turn && turn.speaker_id === me) {
    const words = { question: "Chủ tọa mời bạn chất vấn.", answer: "Chủ tọa mời bạn trả lời chất vấn.", rebuttal: "Chủ tọa mời bạn tranh luận." };
    out.push({ key: `turn:${turn.question_id}:${turn.kind}`, panel: "#floor", text: words[turn.kind] || "Chủ tọa mời bạn phát biểu.", action: "Xem thời gian" });
  }
  // A count waiting for this member of the counting committee (a secret round's or a poll's): the member certifies
  // in the ballot panels (a delegate) or in the committee's own card (js/roles.js, a member who is not a delegate).
  const waiting = (x) => x.status === "counted" && x.committee.includes(me) && !x.certified_by.includes(me);
  const rounds = Object.values(state.votes.rounds).filter((r) => waiting(r) && r.mode !== "verifiable");
  const polls = Object.values(state.polls.polls).filter((p) => waiting(p) && p.mode !== "verifiable");
  if (rounds.length || polls.length) {
    const panel = !isDelegate ? "#committee-tasks" : rounds.length ? "#vote" : "#poll";
    const ids = [...rounds, ...polls].map((x) => x.id).join("+");
    out.push({ key: `certify:${ids}`, panel, text: "Ban kiểm phiếu: có kết quả kiểm phiếu chờ bạn xác nhận.", action: "Xác nhận kết quả" });
  }
  // The verifiable ones are certified by decrypting, in the committee's cards (js/committee.js); so is the key
  // ceremony's first step, the member's passphrase.
  const decrypt = [...Object.values(state.votes.rounds), ...Object.values(state.polls.polls)].filter(
    (x) => x.mode === "verifiable" && x.status === "counted" && x.committee.includes(me) && !(me in (x.partials || {})),
  );
  if (decrypt.length) {
    const key = `decrypt:${decrypt.map((x) => x.id).join("+")}`;
    out.push({ key, panel: "#committee-decrypt", text: "Ban kiểm phiếu: có kết quả chờ bạn giải mã.", action: "Giải mã kết quả" });
  }
  const ceremonies = Object.values(state.ceremonies.by_id).filter((c) => !c.keys && c.spec.members.includes(me) && !(me in c.messages.publish));
  if (ceremonies.length) {
    const key = `ceremony:${ceremonies.map((c) => c.spec.ceremony_id).join("+")}`;
    out.push({ key, panel: "#committee-keys", text: "Chủ tọa bắt đầu tạo khóa Ban kiểm phiếu: chọn mật khẩu của bạn.", action: "Tạo khóa" });
  }
  // Last: a document that arrived (one this delegate may read: it is in the manifest).
  const doc = ctx.arrived[0];
  if (doc) {
    out.push({
      key: `doc:${doc.id}`,
      panel: "#documents",
      text: `${doc.replaced ? "Tài liệu được thay bản mới" : "Tài liệu mới"}: ${ctx.title(doc.id)}`,
      action: "Đọc tài liệu",
      go: () => ctx.open(doc.id, 1),
    });
  }
  return out;
}
