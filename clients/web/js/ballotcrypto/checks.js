// What each check of docs/BALLOT-CRYPTO.md §9 is called, in Vietnamese and English, in the order the verifier
// runs them: the same sentences as ballotcrypto/errors.py CHECKS (tests/test_web_ballotcrypto.py compares them).
export const CHECKS = {
  board_format: ["Tệp bảng công khai không đúng định dạng", "the board file is not in the expected format"],
  ceremony_parameters: ["Tham số lễ tạo khóa không hợp lệ", "the key ceremony's parameters are invalid"],
  member_key: ["Khóa liên lạc của một thành viên không hợp lệ", "a member's communication key is invalid"],
  commitment: ["Cam kết hệ số của một thành viên không hợp lệ", "a member's coefficient commitment is invalid"],
  share_bundle: ["Gói phần khóa của một thành viên không đầy đủ", "a member's bundle of key shares is malformed"],
  complaint: ["Một khiếu nại trong lễ tạo khóa không hợp lệ", "a complaint in the key ceremony is invalid"],
  disqualified: ["Danh sách thành viên bị loại không khớp với các khiếu nại", "the list of disqualified members does not follow from the complaints"],
  joint_key: ["Khóa công khai chung không khớp với các cam kết", "the joint public key does not match the commitments"],
  round: ["Mô tả lượt bỏ phiếu không hợp lệ", "the round's description is invalid"],
  ballot_format: ["Phiếu không đúng cấu trúc của lượt bỏ phiếu", "the ballot does not have the round's shape"],
  ballot_tracker: ["Mã theo dõi phiếu không khớp với bản mã", "the ballot's tracker does not match its ciphertexts"],
  ballot_choice_proof: ["Chứng minh mỗi ô là 0 hoặc 1 không hợp lệ", "the proof that a box holds 0 or 1 does not verify"],
  ballot_sum_proof: ["Chứng minh số ô được chọn không hợp lệ", "the proof of how many boxes are chosen does not verify"],
  ballot_duplicate: ["Phiếu bị trùng với một phiếu khác", "the ballot repeats another ballot"],
  spoiled_ballot: ["Phiếu hủy để kiểm tra không mở đúng", "a spoiled (audited) ballot does not open as revealed"],
  aggregate: ["Tổng mã hóa không khớp với các phiếu", "the encrypted total does not match the ballots"],
  partial_decryption: ["Phần giải mã của một thành viên không hợp lệ", "a member's partial decryption is invalid"],
  too_few_partials: ["Chưa đủ số thành viên Ban kiểm phiếu giải mã", "fewer committee members decrypted than the threshold"],
  result: ["Kết quả không khớp với tổng đã giải mã", "the result does not match the decrypted total"],
};
