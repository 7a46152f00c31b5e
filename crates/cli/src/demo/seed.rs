//! The demo world: the clusters of the seed articles with their real member places. Dates are
//! the ones the articles give; where an article gives none (founding of the Nà Hang and Lệ Thủy –
//! Vĩnh Linh clusters) the date is a plausible one and the cluster's description says so.
//! People's names are invented.

use lienhoan_domain::cluster::{BoardRole, ClusterKind};
use lienhoan_domain::geo::AdminLevel;
use lienhoan_domain::organisation::OrgKind;

use super::incidents;
use super::incidents::Batch;

/// A place, by its code in the shipped 2024 list or among the historical units below.
#[derive(Clone, Copy)]
pub enum Place {
    Listed(&'static str),
    Historical(&'static str),
}

/// Units merged away before July 2025, which no shipped list has.
pub struct HistoricalSeed {
    pub code: &'static str,
    pub level: AdminLevel,
    pub kind: &'static str,
    pub name: &'static str,
    pub parent: &'static str,
    pub valid_to: &'static str,
    /// Codes in the 2024 list.
    pub successors: &'static [&'static str],
}

/// Codes of six digits are provisional: the official code of the merged commune is not in our
/// sources. Bến Gót takes the gap in Việt Trì's numbering between Bạch Hạc and Vân Phú, and
/// Trà Lĩnh the gap in Cao Bằng's district numbering.
pub const HISTORICAL: &[HistoricalSeed] = &[
    HistoricalSeed {
        code: "046",
        level: AdminLevel::District,
        kind: "Huyện",
        name: "Trà Lĩnh",
        parent: "04",
        valid_to: "2020-02-29",
        successors: &["047"],
    },
    HistoricalSeed {
        code: "900001",
        level: AdminLevel::Commune,
        kind: "Xã",
        name: "Cao Đại",
        parent: "252",
        valid_to: "2024-12-31",
        successors: &["09097"],
    },
    HistoricalSeed {
        code: "900002",
        level: AdminLevel::Commune,
        kind: "Xã",
        name: "Việt Xuân",
        parent: "252",
        valid_to: "2024-12-31",
        successors: &["09097"],
    },
    HistoricalSeed {
        code: "900003",
        level: AdminLevel::Commune,
        kind: "Xã",
        name: "Bồ Sao",
        parent: "252",
        valid_to: "2024-12-31",
        successors: &["09097"],
    },
    HistoricalSeed {
        code: "07915",
        level: AdminLevel::Commune,
        kind: "Phường",
        name: "Bến Gót",
        parent: "227",
        valid_to: "2024-12-31",
        successors: &["07912"],
    },
];

/// Spellings in the articles that differ from the official list.
pub const ALIASES: &[(&str, &str)] = &[("072", "Nà Hang"), ("02221", "Nà Hang")];

pub struct OrgSeed {
    pub name: &'static str,
    pub kind: OrgKind,
    pub place: Place,
}

const fn police(name: &'static str, place: Place) -> OrgSeed {
    OrgSeed {
        name,
        kind: OrgKind::Police,
        place,
    }
}

use Place::{Historical as H, Listed as L};

pub const ORGANISATIONS: &[OrgSeed] = &[
    // Nà Hang clusters (districts of four provinces).
    police("Công an huyện Nà Hang", L("072")),
    police("Công an huyện Lâm Bình", L("071")),
    police("Công an huyện Chiêm Hóa", L("073")),
    police("Công an huyện Bắc Mê", L("031")),
    police("Công an huyện Bảo Lâm", L("042")),
    police("Công an huyện Pác Nặm", L("060")),
    police("Công an huyện Ba Bể", L("061")),
    police("Công an huyện Chợ Đồn", L("064")),
    // Sông Lô (Vĩnh Phúc) – Sơn Dương (Tuyên Quang).
    police("Công an huyện Sông Lô", L("253")),
    police("Công an huyện Sơn Dương", L("076")),
    police("Công an xã Lãng Công", L("08773")),
    police("Công an xã Quang Yên", L("08776")),
    police("Công an xã Hải Lựu", L("08782")),
    police("Công an xã Phú Lương", L("02611")),
    police("Công an xã Hào Phú", L("02623")),
    police("Công an xã Tam Đa", L("02626")),
    police("Công an xã Đồng Quế", L("08800")),
    // Việt Trì (Phú Thọ) – Vĩnh Tường – Lập Thạch (Vĩnh Phúc).
    OrgSeed {
        name: "UBND xã Cao Đại",
        kind: OrgKind::PeoplesCommittee,
        place: H("900001"),
    },
    OrgSeed {
        name: "UBND xã Việt Xuân",
        kind: OrgKind::PeoplesCommittee,
        place: H("900002"),
    },
    OrgSeed {
        name: "UBND xã Bồ Sao",
        kind: OrgKind::PeoplesCommittee,
        place: H("900003"),
    },
    OrgSeed {
        name: "Công ty cổ phần VLXD Bồ Sao",
        kind: OrgKind::Enterprise,
        place: H("900003"),
    },
    OrgSeed {
        name: "UBND xã Sơn Đông",
        kind: OrgKind::PeoplesCommittee,
        place: L("08866"),
    },
    OrgSeed {
        name: "UBND phường Bạch Hạc",
        kind: OrgKind::PeoplesCommittee,
        place: L("07912"),
    },
    OrgSeed {
        name: "UBND phường Thanh Miếu",
        kind: OrgKind::PeoplesCommittee,
        place: L("07909"),
    },
    OrgSeed {
        name: "UBND phường Bến Gót",
        kind: OrgKind::PeoplesCommittee,
        place: H("07915"),
    },
    OrgSeed {
        name: "UBND xã Sông Lô",
        kind: OrgKind::PeoplesCommittee,
        place: L("07936"),
    },
    // Lệ Thủy (Quảng Bình) – Vĩnh Linh (Quảng Trị).
    police("Công an huyện Lệ Thủy", L("457")),
    police("Công an huyện Vĩnh Linh", L("464")),
    police("Công an xã Sen Thủy", L("19312")),
    police("Công an xã Ngư Thủy", L("19306")),
    police("Công an xã Kim Thủy", L("19318")),
    police("Công an xã Vĩnh Thái", L("19369")),
    police("Công an xã Vĩnh Chấp", L("19375")),
    police("Công an xã Vĩnh Sơn", L("19420")),
    // Trà Lĩnh district (Cao Bằng), merged into Trùng Khánh in 2020; its communes that the
    // 2024 list still has sit under Trùng Khánh there.
    police("Công an huyện Trà Lĩnh", H("046")),
    police("Công an thị trấn Trà Lĩnh", L("01447")),
    police("Công an xã Tri Phương", L("01453")),
    police("Công an xã Quang Hán", L("01456")),
    police("Công an xã Xuân Nội", L("01462")),
    police("Công an xã Quang Trung", L("01465")),
    police("Công an xã Quang Vinh", L("01468")),
    police("Công an xã Cao Chương", L("01471")),
];

pub struct ClusterSeed {
    pub name: &'static str,
    pub kind: ClusterKind,
    pub founded_on: &'static str,
    pub description: &'static str,
    /// Organisation, joined, left.
    pub members: &'static [(&'static str, &'static str, Option<&'static str>)],
    /// Person (invented), position, role, organisation.
    pub board: &'static [(&'static str, &'static str, BoardRole, &'static str)],
    /// Host organisation, first day, last day.
    pub rotation: &'static [(&'static str, &'static str, &'static str)],
    /// Title, signed on, signatories, body.
    pub regulations: &'static [(
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static str,
    )],
    /// Record-level incidents generated with the cluster.
    pub incidents: &'static [Batch],
}

const NA_HANG_1: &[&str] = &[
    "Công an huyện Nà Hang",
    "Công an huyện Lâm Bình",
    "Công an huyện Bắc Mê",
    "Công an huyện Bảo Lâm",
];
const NA_HANG_2: &[&str] = &[
    "Công an huyện Nà Hang",
    "Công an huyện Chiêm Hóa",
    "Công an huyện Pác Nặm",
    "Công an huyện Ba Bể",
    "Công an huyện Chợ Đồn",
];
const VIET_TRI: &[&str] = &[
    "UBND xã Cao Đại",
    "UBND xã Việt Xuân",
    "UBND xã Bồ Sao",
    "Công ty cổ phần VLXD Bồ Sao",
    "UBND xã Sơn Đông",
    "UBND phường Bạch Hạc",
    "UBND phường Thanh Miếu",
    "UBND phường Bến Gót",
];

pub const CLUSTERS: &[ClusterSeed] = &[
    ClusterSeed {
        name: "Cụm an ninh liên hoàn giáp ranh số 1 (Nà Hang – Lâm Bình – Bắc Mê – Bảo Lâm)",
        kind: ClusterKind::InterProvince,
        founded_on: "2013-10-01",
        description: "Cụm 1 của khu vực giáp ranh 8 huyện thuộc 4 tỉnh Tuyên Quang, Hà Giang, Cao Bằng, Bắc Kạn. Ngày thành lập là giả định (bài báo đầu năm 2017 nói \"hơn 3 năm nay\").",
        members: &[
            ("Công an huyện Nà Hang", "2013-10-01", None),
            ("Công an huyện Lâm Bình", "2013-10-01", None),
            ("Công an huyện Bắc Mê", "2013-10-01", None),
            ("Công an huyện Bảo Lâm", "2013-10-01", None),
        ],
        board: &[
            (
                "Hoàng Văn Thắng",
                "Trưởng Công an huyện Nà Hang",
                BoardRole::Head,
                "Công an huyện Nà Hang",
            ),
            (
                "Ma Thị Lan",
                "Phó Trưởng Công an huyện Lâm Bình",
                BoardRole::Deputy,
                "Công an huyện Lâm Bình",
            ),
        ],
        rotation: &[
            ("Công an huyện Nà Hang", "2013-10-01", "2014-12-31"),
            ("Công an huyện Lâm Bình", "2015-01-01", "2015-12-31"),
            ("Công an huyện Bắc Mê", "2016-01-01", "2016-12-31"),
            ("Công an huyện Bảo Lâm", "2017-01-01", "2017-12-31"),
        ],
        regulations: &[(
            "Quy chế phối hợp cụm an ninh liên hoàn khu vực giáp ranh",
            "2013-10-01",
            NA_HANG_1,
            "Các đơn vị thành viên giao ban định kỳ, trao đổi thông tin về tình hình tội phạm, người xuất cảnh trái phép, di cư tự do và đối tượng trong diện quản lý; phối hợp giải quyết các vụ việc xảy ra trên địa bàn giáp ranh.",
        )],
        incidents: incidents::NA_HANG,
    },
    ClusterSeed {
        name: "Cụm an ninh liên hoàn giáp ranh số 2 (Nà Hang – Chiêm Hóa – Pác Nặm – Ba Bể – Chợ Đồn)",
        kind: ClusterKind::InterProvince,
        founded_on: "2013-10-01",
        description: "Cụm 2 của khu vực giáp ranh 8 huyện; huyện Nà Hang thuộc cả hai cụm. Ngày thành lập là giả định.",
        members: &[
            ("Công an huyện Nà Hang", "2013-10-01", None),
            ("Công an huyện Chiêm Hóa", "2013-10-01", None),
            ("Công an huyện Pác Nặm", "2013-10-01", None),
            ("Công an huyện Ba Bể", "2013-10-01", None),
            ("Công an huyện Chợ Đồn", "2013-10-01", None),
        ],
        board: &[(
            "Nông Văn Quý",
            "Phó Trưởng Công an huyện Chiêm Hóa",
            BoardRole::Head,
            "Công an huyện Chiêm Hóa",
        )],
        rotation: &[
            ("Công an huyện Nà Hang", "2013-10-01", "2014-12-31"),
            ("Công an huyện Chiêm Hóa", "2015-01-01", "2015-12-31"),
            ("Công an huyện Pác Nặm", "2016-01-01", "2016-12-31"),
            ("Công an huyện Ba Bể", "2017-01-01", "2017-12-31"),
            ("Công an huyện Chợ Đồn", "2018-01-01", "2018-12-31"),
        ],
        regulations: &[(
            "Quy chế phối hợp cụm an ninh liên hoàn khu vực giáp ranh",
            "2013-10-01",
            NA_HANG_2,
            "Giao ban định kỳ do đơn vị thường trực chủ trì; đơn vị thường trực tổng hợp tình hình và dự thảo báo cáo kết quả phối hợp.",
        )],
        incidents: &[],
    },
    ClusterSeed {
        name: "Cụm an ninh trật tự khu vực giáp ranh Sông Lô – Sơn Dương",
        kind: ClusterKind::InterProvince,
        founded_on: "2015-07-03",
        description: "Mô hình cụm ANTT giữa các xã huyện Sông Lô (Vĩnh Phúc) và huyện Sơn Dương (Tuyên Quang); sơ kết 5 năm ngày 03/07/2020, ký giao ước thi đua giữa 6 xã giáp ranh.",
        members: &[
            ("Công an huyện Sông Lô", "2015-07-03", None),
            ("Công an huyện Sơn Dương", "2015-07-03", None),
            ("Công an xã Lãng Công", "2015-07-03", None),
            ("Công an xã Quang Yên", "2015-07-03", None),
            ("Công an xã Hải Lựu", "2015-07-03", None),
            ("Công an xã Phú Lương", "2015-07-03", None),
            ("Công an xã Hào Phú", "2015-07-03", None),
            ("Công an xã Tam Đa", "2015-07-03", None),
        ],
        board: &[
            (
                "Lê Minh Tuấn",
                "Phó Chủ tịch UBND huyện Sông Lô",
                BoardRole::Head,
                "Công an huyện Sông Lô",
            ),
            (
                "Hà Quang Vinh",
                "Trưởng Công an huyện Sơn Dương",
                BoardRole::Deputy,
                "Công an huyện Sơn Dương",
            ),
            (
                "Nguyễn Thị Hoa",
                "Trưởng Công an xã Lãng Công",
                BoardRole::Member,
                "Công an xã Lãng Công",
            ),
        ],
        rotation: &[
            ("Công an huyện Sông Lô", "2015-07-03", "2016-07-02"),
            ("Công an huyện Sơn Dương", "2016-07-03", "2017-07-02"),
            ("Công an huyện Sông Lô", "2017-07-03", "2018-07-02"),
            ("Công an huyện Sơn Dương", "2018-07-03", "2019-07-02"),
            ("Công an huyện Sông Lô", "2019-07-03", "2020-07-02"),
            ("Công an huyện Sơn Dương", "2020-07-03", "2021-07-02"),
        ],
        regulations: &[(
            "Quy chế phối hợp xây dựng Cụm an ninh trật tự khu vực giáp ranh",
            "2015-07-03",
            &[
                "Công an huyện Sông Lô",
                "Công an huyện Sơn Dương",
                "Công an xã Lãng Công",
                "Công an xã Quang Yên",
                "Công an xã Hải Lựu",
                "Công an xã Phú Lương",
                "Công an xã Hào Phú",
                "Công an xã Tam Đa",
            ],
            "Các xã giáp ranh thường xuyên trao đổi, cung cấp thông tin về tình hình ANTT; phối hợp tuần tra, giải quyết dứt điểm vụ việc, không để phát sinh mâu thuẫn, tranh chấp kéo dài.",
        )],
        incidents: incidents::SONG_LO,
    },
    ClusterSeed {
        name: "Cụm liên kết đảm bảo ANTT, xóa sơ hở vùng giáp ranh Việt Trì – Vĩnh Tường – Lập Thạch",
        kind: ClusterKind::InterProvince,
        founded_on: "2018-01-24",
        description: "Các xã Cao Đại, Việt Xuân, Bồ Sao, Công ty CP VLXD Bồ Sao (Vĩnh Tường), xã Sơn Đông (Lập Thạch) và các phường Bạch Hạc, Thanh Miếu, Bến Gót (Việt Trì) ký quy chế ngày 24/01/2018; sơ kết 1 năm ngày 05/03/2019 kết nạp xã Sông Lô (Việt Trì).",
        members: &[
            ("UBND xã Cao Đại", "2018-01-24", None),
            ("UBND xã Việt Xuân", "2018-01-24", None),
            ("UBND xã Bồ Sao", "2018-01-24", None),
            ("Công ty cổ phần VLXD Bồ Sao", "2018-01-24", None),
            ("UBND xã Sơn Đông", "2018-01-24", None),
            ("UBND phường Bạch Hạc", "2018-01-24", None),
            ("UBND phường Thanh Miếu", "2018-01-24", None),
            ("UBND phường Bến Gót", "2018-01-24", None),
            ("UBND xã Sông Lô", "2019-03-05", None),
        ],
        board: &[
            (
                "Trần Văn Hùng",
                "Chủ tịch UBND phường Bạch Hạc",
                BoardRole::Head,
                "UBND phường Bạch Hạc",
            ),
            (
                "Đỗ Thị Mai",
                "Chủ tịch UBND xã Cao Đại",
                BoardRole::Deputy,
                "UBND xã Cao Đại",
            ),
        ],
        rotation: &[
            ("UBND phường Bạch Hạc", "2018-01-24", "2019-01-23"),
            ("UBND xã Cao Đại", "2019-01-24", "2020-01-23"),
            ("UBND xã Sơn Đông", "2020-01-24", "2021-01-23"),
        ],
        regulations: &[
            (
                "Quy chế phối hợp hoạt động cụm liên kết đảm bảo ANTT, xóa sơ hở vùng giáp ranh",
                "2018-01-24",
                VIET_TRI,
                "Phối hợp nắm tình hình, trao đổi thông tin, tuần tra và giải quyết vụ việc ở địa bàn giáp ranh; trọng tâm phòng chống ma túy, trộm cắp, tín dụng đen.",
            ),
            (
                "Quy chế phối hợp hoạt động cụm liên kết đảm bảo ANTT, xóa sơ hở vùng giáp ranh (sửa đổi, bổ sung)",
                "2019-03-05",
                &[
                    "UBND xã Cao Đại",
                    "UBND xã Việt Xuân",
                    "UBND xã Bồ Sao",
                    "Công ty cổ phần VLXD Bồ Sao",
                    "UBND xã Sơn Đông",
                    "UBND phường Bạch Hạc",
                    "UBND phường Thanh Miếu",
                    "UBND phường Bến Gót",
                    "UBND xã Sông Lô",
                ],
                "Sửa đổi sau hội nghị sơ kết 1 năm; kết nạp xã Sông Lô; bổ sung kế hoạch phối hợp phòng ngừa, đấu tranh với tội phạm tín dụng đen.",
            ),
        ],
        incidents: incidents::VIET_TRI,
    },
    ClusterSeed {
        name: "Cụm \"Liên hoàn về ANTT\" vùng giáp ranh Lệ Thủy – Vĩnh Linh",
        kind: ClusterKind::InterProvince,
        founded_on: "2015-01-01",
        description: "Các xã, thị trấn giáp ranh giữa huyện Lệ Thủy (Quảng Bình) và huyện Vĩnh Linh (Quảng Trị); tổng kết năm 2017: 25 ca tuần tra chung, giảm 13 vụ việc so với năm 2016. Ngày thành lập là giả định.",
        members: &[
            ("Công an huyện Lệ Thủy", "2015-01-01", None),
            ("Công an huyện Vĩnh Linh", "2015-01-01", None),
            ("Công an xã Sen Thủy", "2015-01-01", None),
            ("Công an xã Ngư Thủy", "2015-01-01", None),
            ("Công an xã Kim Thủy", "2015-01-01", None),
            ("Công an xã Vĩnh Thái", "2015-01-01", None),
            ("Công an xã Vĩnh Chấp", "2015-01-01", None),
            ("Công an xã Vĩnh Sơn", "2015-01-01", None),
        ],
        board: &[
            (
                "Phan Văn Lợi",
                "Phó Trưởng Công an huyện Lệ Thủy",
                BoardRole::Head,
                "Công an huyện Lệ Thủy",
            ),
            (
                "Lê Đình Khánh",
                "Phó Trưởng Công an huyện Vĩnh Linh",
                BoardRole::Deputy,
                "Công an huyện Vĩnh Linh",
            ),
        ],
        rotation: &[
            ("Công an huyện Lệ Thủy", "2017-01-01", "2017-12-31"),
            ("Công an huyện Vĩnh Linh", "2018-01-01", "2018-12-31"),
        ],
        regulations: &[(
            "Quy chế hoạt động Cụm \"Liên hoàn về ANTT\" vùng giáp ranh",
            "2015-01-01",
            &["Công an huyện Lệ Thủy", "Công an huyện Vĩnh Linh"],
            "Ban điều hành cụm xây dựng kế hoạch, tổ chức tuần tra chung, giao ban trao đổi thông tin về đối tượng trong diện quản lý.",
        )],
        incidents: incidents::LE_THUY,
    },
];

/// Demo accounts, one per role; the password is `demo`.
pub const ACCOUNTS: &[(&str, &str, lienhoan_domain::access::Role, Option<&str>)] = {
    use lienhoan_domain::access::Role;
    &[
        ("admin", "Quản trị hệ thống", Role::Admin, None),
        (
            "coordinator",
            "Điều phối viên cụm Sông Lô",
            Role::Coordinator,
            Some("Công an huyện Sông Lô"),
        ),
        (
            "commander",
            "Trưởng Công an xã Lãng Công",
            Role::Commander,
            Some("Công an xã Lãng Công"),
        ),
        (
            "officer",
            "Cán bộ Công an xã Quang Yên",
            Role::Officer,
            Some("Công an xã Quang Yên"),
        ),
        ("auditor", "Thanh tra", Role::Auditor, None),
    ]
};

pub const DEMO_PASSWORD: &str = "demo";
