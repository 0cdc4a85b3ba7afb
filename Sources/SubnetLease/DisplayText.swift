// Text from the store (node names, keys, agent versions, reasons quoting them) is whatever
// anyone with write access put there. Wherever it reaches a text log line, a status table, the
// monitoring check or a comment in a generated file, it goes through `displaySafe`: one line,
// no terminal control, bounded length, so a node name cannot forge a log line, recolour a
// terminal or bury a report under 10 KB of padding. Machine formats (JSON, YAML scalars) encode
// the exact text instead.

/// `text` as one printable line: `\` and control characters become escapes (`\n`, `\t`, `\r`,
/// `\u{1b}`), including C1 controls, the Unicode line and paragraph separators and the bidi
/// overrides that can make a line read differently from what it holds; beyond `limit` Unicode
/// scalars the rest is replaced by a count (`…(+10180 more)`). Plain text comes back unchanged.
public func displaySafe(_ text: String, limit: Int? = 256) -> String {
    var out = String.UnicodeScalarView()
    var count = 0
    var scalars = text.unicodeScalars.makeIterator()
    while let s = scalars.next() {
        if let limit, count >= limit {
            var rest = 1
            while scalars.next() != nil { rest += 1 }
            out.append(contentsOf: "…(+\(rest) more)".unicodeScalars)
            break
        }
        count += 1
        switch s {
        case "\\": out.append(contentsOf: #"\\"#.unicodeScalars)
        case "\n": out.append(contentsOf: #"\n"#.unicodeScalars)
        case "\r": out.append(contentsOf: #"\r"#.unicodeScalars)
        case "\t": out.append(contentsOf: #"\t"#.unicodeScalars)
        default:
            if needsEscape(s) {
                out.append(contentsOf: "\\u{\(String(s.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(s)
            }
        }
    }
    return String(out)
}

private func needsEscape(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0..<0x20, 0x7f, 0x80...0x9f: true  // C0, DEL, C1 (ESC starts ANSI sequences)
    case 0x2028, 0x2029, 0x85: true  // line and paragraph separators
    case 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069: true  // bidi marks, embeddings, overrides, isolates
    case 0xfeff: true
    default: false
    }
}
