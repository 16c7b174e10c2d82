"""The words of the demo council's petitions (server/demo_petitions.py): places, petitions by field, answers.

Written after the kinds of petition the voter-meeting reports in ../shared/seeds/ describe (roads between
hamlets, clinics without doctors, land certificates, flooding, school rooms, policy for people with merit), with
fictional places of the fictional province Minh Hòa. `{thon}` is a hamlet or residential group, `{xa}` the commune.
"""

from __future__ import annotations

# (commune or ward, its hamlets or residential groups): each delegate group meets voters in a few of these.
PLACES: list[tuple[str, list[str]]] = [
    ("phường Đông Hải", ["tổ dân phố 3", "tổ dân phố 7", "khu phố Hải Thịnh"]),
    ("phường Bắc Sơn", ["tổ dân phố 1", "tổ dân phố 5", "khu phố Đồi Thông"]),
    ("phường Tân An", ["khu phố An Lạc", "khu phố An Bình", "tổ dân phố 9"]),
    ("xã Tân Phú", ["thôn Phú Xuân", "thôn Phú Hòa", "thôn Đồng Me"]),
    ("xã Yên Thành", ["thôn Yên Lạc", "thôn Trung Hậu", "thôn Bến Đình"]),
    ("xã Hòa Bình", ["thôn Bình Minh", "thôn Đá Mài", "bản Nà Cà"]),
    ("xã Quỳnh Lâm", ["thôn Lâm Sơn", "thôn Xuân Lâm", "thôn Cồn Cát"]),
    ("xã Nghĩa Đàn", ["thôn Đông Lâm", "thôn Sơn Thành", "thôn Khe Mây"]),
    ("xã Thanh Chương", ["thôn Phong Thịnh", "thôn Cát Ngạn", "thôn Hạnh Lâm"]),
    ("xã Diễn Châu", ["thôn Diễn Kim", "thôn Hải Nhuận", "xóm Bãi Ngang"]),
    ("xã Cát Ngạn", ["thôn Ngọc Sơn", "thôn Tam Đa", "xóm Rú Mượu"]),
    ("phường Hưng Dũng", ["khối Vĩnh Mỹ", "khối Yên Hòa", "khối 12"]),
    ("xã Quế Phong", ["bản Na Công", "bản Piềng Cu", "bản Huổi Muống"]),
    ("xã Tương Dương", ["bản Xốp Mạt", "bản Pủng", "bản Hòa Tiến"]),
    ("xã Kỳ Sơn", ["bản Huồi Cáng", "bản Phà Khảo", "bản Nậm Càn"]),
    ("phường Thái Hòa", ["khối Tân Hồng", "khối Quang Tiến", "tổ dân phố 4"]),
    ("xã Hưng Nguyên", ["thôn Hưng Đạo", "thôn Mỹ Thịnh", "thôn Phú Long"]),
    ("xã Nam Đàn", ["thôn Kim Liên", "thôn Hồng Long", "thôn Xuân Hòa"]),
    ("phường Cửa Lò", ["khối Hải Bằng", "khối Thu Thủy", "khối Xuân Hương"]),
    ("xã Đô Lương", ["thôn Lạc Sơn", "thôn Văn Sơn", "thôn Đà Sơn"]),
]

# field id -> (agency id, needs resources?, petition texts). The agency is who usually answers for the field.
PETITIONS: dict[str, tuple[str, bool, list[str]]] = {
    "giao-thong": (
        "so-xd",
        True,
        [
            "Tuyến đường liên thôn từ {thon} đi trung tâm {xa} xuống cấp nghiêm trọng, mùa mưa lầy lội, học sinh "
            "đi lại khó khăn. Đề nghị đầu tư nâng cấp, cứng hóa mặt đường.",
            "Đề nghị sớm lắp đặt đèn tín hiệu và gờ giảm tốc tại ngã ba {thon} giao quốc lộ, nơi thường xuyên xảy "
            "ra tai nạn giao thông.",
            "Cầu tràn qua suối ở {thon} bị lũ cuốn trôi một phần, người dân phải lội qua suối. Đề nghị xây dựng "
            "cầu kiên cố.",
            "Dự án mở rộng tuyến tỉnh lộ qua {xa} thi công kéo dài, để bụi và ổ gà nhiều năm. Đề nghị đôn đốc nhà "
            "thầu hoàn thành đúng tiến độ.",
            "Đề nghị bố trí xe buýt tuyến từ {xa} về trung tâm tỉnh, tạo điều kiện cho học sinh, người già đi lại.",
        ],
    ),
    "dat-dai": (
        "so-nnmt",
        False,
        [
            "Nhiều hộ dân ở {thon} đã nộp hồ sơ cấp giấy chứng nhận quyền sử dụng đất từ lâu nhưng chưa được cấp. "
            "Đề nghị rà soát, giải quyết dứt điểm.",
            "Đề nghị công khai phương án bồi thường, hỗ trợ tái định cư của dự án khu đô thị mới tại {xa}; người "
            "dân chưa thống nhất về đơn giá bồi thường.",
            "Đất ở của các hộ dân {thon} bị đo đạc chồng lấn với đất rừng phòng hộ. Đề nghị đo đạc lại, điều chỉnh "
            "ranh giới cho người dân.",
            "Đề nghị giải quyết tình trạng lấn chiếm đất công, xây dựng trái phép ven kênh ở {thon}.",
            "Đề nghị hướng dẫn thủ tục chuyển mục đích sử dụng đất vườn sang đất ở, thủ tục hiện nay phức tạp, "
            "kéo dài.",
        ],
    ),
    "y-te": (
        "so-yt",
        False,
        [
            "Trạm y tế {xa} thiếu bác sĩ, ban đêm không có người trực. Đề nghị bố trí bác sĩ về trạm.",
            "Đề nghị cung ứng đủ thuốc bảo hiểm y tế tại bệnh viện tuyến tỉnh; người bệnh phải tự mua thuốc ngoài.",
            "Đề nghị đầu tư trang thiết bị siêu âm, xét nghiệm cho trạm y tế {xa} để người dân khám tại chỗ.",
            "Thời gian chờ khám tại Bệnh viện đa khoa tỉnh quá lâu. Đề nghị cải tiến quy trình, đặt lịch khám qua "
            "điện thoại.",
            "Đề nghị tổ chức tiêm chủng mở rộng tại {thon}, nhiều trẻ em vùng cao chưa được tiêm đủ mũi.",
        ],
    ),
    "giao-duc": (
        "so-gddt",
        True,
        [
            "Trường tiểu học {xa} thiếu phòng học, học sinh phải học ca ba. Đề nghị đầu tư xây thêm phòng học.",
            "Đề nghị bố trí đủ giáo viên tiếng Anh và tin học cho các trường vùng khó khăn của {xa}.",
            "Điểm trường mầm non {thon} xuống cấp, mái dột. Đề nghị sửa chữa trước mùa mưa bão.",
            "Đề nghị có chính sách hỗ trợ tiền ăn trưa cho học sinh bán trú ở {thon}.",
            "Đề nghị chấn chỉnh tình trạng lạm thu đầu năm học tại một số trường trên địa bàn {xa}.",
        ],
    ),
    "chinh-sach-xa-hoi": (
        "so-nv",
        False,
        [
            "Đề nghị xem xét giải quyết chế độ cho người có công với cách mạng ở {thon} đã nộp hồ sơ từ lâu.",
            "Việc chi trả trợ cấp xã hội qua tài khoản khó khăn với người cao tuổi. Đề nghị tiếp tục chi trả tiền "
            "mặt tại {xa} cho người không tự đi được.",
            "Đề nghị rà soát danh sách hộ nghèo, cận nghèo của {xa}, có hộ khó khăn chưa được đưa vào danh sách.",
            "Đề nghị hỗ trợ kinh phí xây nhà cho các hộ nghèo ở {thon} có nhà dột nát.",
            "Đề nghị giải quyết chế độ cho cán bộ không chuyên trách thôi việc do sắp xếp đơn vị hành chính.",
        ],
    ),
    "moi-truong": (
        "so-nnmt",
        True,
        [
            "Bãi rác {thon} quá tải, gây ô nhiễm, mùi hôi ảnh hưởng đời sống người dân. Đề nghị di dời, xử lý.",
            "Cơ sở chăn nuôi lợn gần khu dân cư {thon} xả thải ra kênh. Đề nghị kiểm tra, xử lý.",
            "Đề nghị nạo vét hệ thống thoát nước ở {xa}, mỗi lần mưa lớn khu dân cư bị ngập sâu.",
            "Tình trạng khai thác cát trái phép trên sông đoạn qua {xa} gây sạt lở bờ. Đề nghị xử lý nghiêm.",
            "Đề nghị đầu tư kè chống sạt lở bờ biển ở {thon}, nhiều nhà dân có nguy cơ bị cuốn trôi.",
        ],
    ),
    "nong-nghiep": (
        "so-nnmt",
        False,
        [
            "Đề nghị hỗ trợ giống cho người dân {xa} bị thiệt hại do bão lũ vừa qua.",
            "Giá phân bón tăng cao, đề nghị có biện pháp bình ổn giá và kiểm soát phân bón giả.",
            "Đề nghị sửa chữa trạm bơm và kênh mương nội đồng ở {thon} để kịp vụ Đông Xuân.",
            "Đề nghị hỗ trợ tiêu thụ nông sản cho người dân {xa}, nhất là cam và chè vào vụ thu hoạch.",
        ],
    ),
    "dien-nuoc": (
        "ubnd-tinh",
        True,
        [
            "Nhiều hộ dân ở {thon} chưa có nước sạch sinh hoạt, phải dùng nước giếng nhiễm phèn. Đề nghị đầu tư "
            "hệ thống cấp nước.",
            "Điện ở {thon} thường xuyên mất, điện áp yếu vào giờ cao điểm. Đề nghị nâng cấp trạm biến áp.",
            "Đề nghị kéo điện lưới quốc gia về {thon}, hiện còn nhiều hộ chưa có điện.",
            "Nhà máy nước {xa} cấp nước không ổn định, chất lượng nước chưa bảo đảm. Đề nghị kiểm tra.",
        ],
    ),
    "an-ninh-trat-tu": (
        "ubnd-xa",
        False,
        [
            "Tình trạng thanh thiếu niên tụ tập, đua xe ban đêm ở {thon} gây mất trật tự. Đề nghị tăng cường tuần tra.",
            "Đề nghị xử lý các điểm kinh doanh karaoke hoạt động quá giờ, gây ồn ào ở {xa}.",
            "Đề nghị lắp camera an ninh tại các tuyến đường chính của {xa}.",
            "Tình trạng lừa đảo qua mạng nhắm vào người cao tuổi ở {xa} gia tăng. Đề nghị tăng cường tuyên truyền.",
        ],
    ),
    "khac": (
        "ubnd-xa",
        False,
        [
            "Đề nghị công khai lịch tiếp công dân của lãnh đạo {xa} và trả lời đơn thư đúng thời hạn.",
            "Sau khi sáp nhập, trụ sở {xa} ở xa, người dân đi làm thủ tục khó khăn. Đề nghị bố trí điểm tiếp nhận "
            "hồ sơ tại {thon}.",
            "Đề nghị đầu tư nhà văn hóa {thon}, nhà cũ xuống cấp không bảo đảm an toàn.",
            "Đề nghị hướng dẫn người dân cài đặt, sử dụng dịch vụ công trực tuyến tại {xa}.",
        ],
    ),
}

# What an agency answers, by group, and what the Standing Committee notes when it concludes.
ANSWERS_NO_RESOURCES = [
    "{agency} đã chỉ đạo kiểm tra thực tế tại {xa}; đã giải quyết xong, kết quả được thông báo đến cử tri.",
    "{agency} đã làm việc với {xa} và các đơn vị liên quan; đã xử lý dứt điểm, báo cáo kết quả bằng văn bản.",
    "{agency} tiếp thu ý kiến cử tri; đã ban hành văn bản hướng dẫn và giao đơn vị liên quan thực hiện ngay.",
]
ANSWERS_NEEDS_RESOURCES = [
    "{agency} tiếp thu; nội dung đã được đưa vào kế hoạch đầu tư công trung hạn 2026–2030, dự kiến bố trí vốn "
    "năm 2027.",
    "{agency} đã giao khảo sát, lập dự án; sẽ bố trí vốn khi cân đối được nguồn ngân sách, báo cáo lộ trình cụ thể.",
    "{agency} ghi nhận; đề nghị {xa} đưa vào danh mục ưu tiên để tỉnh xem xét hỗ trợ kinh phí theo lộ trình.",
]
CONCLUDE_NOTE = {
    "resolved": "Thường trực HĐND đã kiểm tra, cử tri thống nhất với kết quả giải quyết.",
    "partly_resolved": "Mới giải quyết một phần; tiếp tục theo dõi, đôn đốc.",
    "roadmap": "Đã có kế hoạch, lộ trình; Ban Kinh tế - Ngân sách theo dõi việc bố trí vốn.",
    "not_resolved": "Vượt thẩm quyền của tỉnh; đã báo cáo, kiến nghị cơ quan trung ương.",
}

VOTER_NAMES = [
    "Nguyễn Văn Hùng",
    "Trần Thị Lan",
    "Lê Văn Bình",
    "Phạm Thị Hoa",
    "Hoàng Văn Nam",
    "Võ Thị Mai",
    "Đặng Văn Tùng",
    "Bùi Thị Hạnh",
    "Hồ Văn Sơn",
    "Ngô Thị Thu",
]
