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

/// The Vietnamese alphabet with the Latin letters it lacks placed in Latin order.
const ALPHABET: [&str; 33] = [
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
    "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z",
];

/// A byte string whose plain byte order is Vietnamese dictionary order: letters first
/// (ă after a, đ after d, ơ after ô), then tones (none, huyền, hỏi, ngã, sắc, nặng), then case.
/// Stored beside names so that both engines sort with a plain binary comparison.
pub fn sort_key(text: &str) -> Vec<u8> {
    let mut primary = Vec::new();
    let mut tones = Vec::new();
    let mut cases = Vec::new();
    let chars: Vec<char> = text.trim().nfd().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c.is_whitespace() {
            if primary.last() != Some(&1) {
                primary.push(1);
            }
            continue;
        }
        let mut letter = String::new();
        letter.extend(c.to_lowercase());
        if c == 'đ' || c == 'Đ' {
            letter = "đ".into();
        }
        let mut tone = 0u8;
        while i < chars.len() && is_combining(chars[i]) {
            match chars[i] {
                BREVE | CIRCUMFLEX | HORN => letter.push(chars[i]),
                GRAVE => tone = 1,
                HOOK_ABOVE => tone = 2,
                TILDE => tone = 3,
                ACUTE => tone = 4,
                DOT_BELOW => tone = 5,
                _ => {}
            }
            i += 1;
        }
        let letter: String = letter.nfc().collect();
        primary.push(primary_weight(&letter, c));
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

fn primary_weight(letter: &str, original: char) -> u8 {
    if let Some(pos) = ALPHABET.iter().position(|l| *l == letter) {
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
}
