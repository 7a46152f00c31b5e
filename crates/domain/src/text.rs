//! Vietnamese text: diacritics-insensitive search keys and dictionary sort order.

use unicode_normalization::UnicodeNormalization;

const GRAVE: char = '\u{300}';
const ACUTE: char = '\u{301}';
const CIRCUMFLEX: char = '\u{302}';
const TILDE: char = '\u{303}';
const BREVE: char = '\u{306}';
const HOOK_ABOVE: char = '\u{309}';
const HORN: char = '\u{31B}';
const DOT_BELOW: char = '\u{323}';

/// Folds text for diacritics-insensitive matching: "Nà Hang" and "na  hang" fold alike.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd() {
        if is_combining(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

fn is_combining(c: char) -> bool {
    ('\u{300}'..='\u{36F}').contains(&c)
}

/// The Vietnamese alphabet with the Latin letters it lacks placed in Latin order, each letter
/// as its base and the mark that makes it a letter of its own (ă, â, ê, ô, ơ, ư), as they come
/// out of canonical decomposition; đ has no decomposition.
const ALPHABET: [(char, Option<char>); 33] = [
    ('a', None),
    ('a', Some(BREVE)),
    ('a', Some(CIRCUMFLEX)),
    ('b', None),
    ('c', None),
    ('d', None),
    ('đ', None),
    ('e', None),
    ('e', Some(CIRCUMFLEX)),
    ('f', None),
    ('g', None),
    ('h', None),
    ('i', None),
    ('j', None),
    ('k', None),
    ('l', None),
    ('m', None),
    ('n', None),
    ('o', None),
    ('o', Some(CIRCUMFLEX)),
    ('o', Some(HORN)),
    ('p', None),
    ('q', None),
    ('r', None),
    ('s', None),
    ('t', None),
    ('u', None),
    ('u', Some(HORN)),
    ('v', None),
    ('w', None),
    ('x', None),
    ('y', None),
    ('z', None),
];

/// A byte string whose plain byte order is Vietnamese dictionary order: letters first
/// (ă after a, đ after d, ơ after ô), then tones (none, huyền, hỏi, ngã, sắc, nặng), then case.
/// Stored beside names so that both engines sort with a plain binary comparison, so its bytes
/// must not change (see the test of stored keys). Reports make keys for their labels on every
/// request, so a character costs no allocation.
pub fn sort_key(text: &str) -> Vec<u8> {
    let mut primary = Vec::with_capacity(text.len());
    let mut tones = Vec::with_capacity(text.len());
    let mut cases = Vec::with_capacity(text.len());
    let mut chars = text.trim().nfd().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            if primary.last() != Some(&1) {
                primary.push(1);
            }
            continue;
        }
        let (mut tone, mut letter_marks, mut letter_mark) = (0u8, 0, None);
        while let Some(mark) = chars.next_if(|m| is_combining(*m)) {
            match mark {
                BREVE | CIRCUMFLEX | HORN => {
                    letter_marks += 1;
                    letter_mark = Some(mark);
                }
                GRAVE => tone = 1,
                HOOK_ABOVE => tone = 2,
                TILDE => tone = 3,
                ACUTE => tone = 4,
                DOT_BELOW => tone = 5,
                _ => {}
            }
        }
        let letter = lower_base(c)
            .filter(|_| letter_marks <= 1)
            .map(|base| (base, letter_mark));
        primary.push(primary_weight(letter, c));
        tones.push(tone + 1);
        cases.push(if c.is_uppercase() { 2 } else { 1 });
    }
    let mut key = primary;
    key.push(0);
    key.extend(tones);
    key.push(0);
    key.extend(cases);
    key
}

/// The character's lower case when that is one character.
fn lower_base(c: char) -> Option<char> {
    if c == 'Đ' {
        return Some('đ');
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => Some(l),
        _ => None,
    }
}

fn primary_weight(letter: Option<(char, Option<char>)>, original: char) -> u8 {
    if let Some(pos) = ALPHABET.iter().position(|l| Some(*l) == letter) {
        return 0x40 + pos as u8;
    }
    if original.is_ascii_digit() {
        return 0x20 + (original as u8 - b'0');
    }
    // Punctuation and letters from other scripts sort before letters, after spaces.
    0x10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_diacritics_case_and_spacing() {
        let cases = [
            ("Nà Hang", "na hang"),
            ("Na Hang", "na hang"),
            ("  Đồng   Văn ", "dong van"),
            ("Thượng Lâm", "thuong lam"),
            ("Lệ Thủy", "le thuy"),
            ("BỒ SAO", "bo sao"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(fold(input), expected, "fold({input:?})");
        }
    }

    #[test]
    fn sort_order_is_vietnamese_dictionary_order() {
        let expected = [
            "An",
            "Ăn",
            "Ân",
            "Bắc Kạn",
            "Bắc Mê",
            "Cao Bằng",
            "Chiêm Hóa",
            "Dương",
            "Đà",
            "Đông",
            "Hà Giang",
            "Hạ Lang",
            "Lâm Bình",
            "Lập Thạch",
            "Na Hang",
            "Nà Hang",
            "Sông Lô",
            "Sơn Dương",
            "Thượng",
            "Ưu",
            "Y",
        ];
        let mut shuffled = expected.to_vec();
        shuffled.reverse();
        shuffled.sort_by_key(|s| sort_key(s));
        assert_eq!(shuffled, expected);
    }

    #[test]
    fn tones_order_after_letters() {
        let mut words = vec!["má", "mạ", "mà", "ma", "mã", "mả", "mb"];
        words.sort_by_key(|s| sort_key(s));
        assert_eq!(words, vec!["ma", "mà", "mả", "mã", "má", "mạ", "mb"]);
    }

    #[test]
    fn digits_sort_before_letters_and_numerically_per_digit() {
        let mut words = vec!["Phường B", "Phường 2", "Phường 1"];
        words.sort_by_key(|s| sort_key(s));
        assert_eq!(words, vec!["Phường 1", "Phường 2", "Phường B"]);
    }

    #[test]
    fn stored_keys_keep_their_bytes() {
        // Keys are stored beside names in both engines, made by every version of the server
        // that wrote a row: a change to their bytes would sort old rows apart from new ones.
        let cases: [(&str, &[u8]); 3] = [
            (
                "Nà Hang",
                &[
                    81, 64, 1, 75, 64, 81, 74, 0, 1, 2, 1, 1, 1, 1, 0, 2, 1, 2, 1, 1, 1,
                ],
            ),
            (
                "Đồng Văn 2",
                &[
                    70, 83, 81, 74, 1, 92, 65, 81, 1, 34, 0, 1, 2, 1, 1, 1, 1, 1, 1, 0, 2, 1, 1, 1,
                    2, 1, 1, 1,
                ],
            ),
            ("Ơ-ẞ ư", &[84, 16, 16, 1, 91, 0, 1, 1, 1, 1, 0, 2, 1, 2, 1]),
        ];
        for (text, key) in cases {
            assert_eq!(sort_key(text), key, "{text}");
        }
    }
}
