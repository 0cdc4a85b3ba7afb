// A deliberately strict reader for systemd's INI dialect, enough to prove a .network file is
// well formed: every line is blank, a comment, a [Section] header or Key=Value inside a section.
struct INISection: Equatable {
    var name: String
    var entries: [(key: String, value: String)]

    static func == (a: Self, b: Self) -> Bool {
        a.name == b.name && a.entries.map(\.key) == b.entries.map(\.key) && a.entries.map(\.value) == b.entries.map(\.value)
    }

    func values(_ key: String) -> [String] { entries.filter { $0.key == key }.map(\.value) }
}

struct INIError: Error, CustomStringConvertible {
    var line: Int
    var text: String
    var reason: String
    var description: String { "line \(line): \(reason): \(text)" }
}

enum INI {
    static func parse(_ text: String) throws -> [INISection] {
        var sections: [INISection] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2,
                    line.dropFirst().dropLast().allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
                else { throw INIError(line: n + 1, text: line, reason: "malformed section header") }
                sections.append(INISection(name: String(line.dropFirst().dropLast()), entries: []))
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw INIError(line: n + 1, text: line, reason: "neither comment, section nor Key=Value")
            }
            let key = String(line[..<eq])
            let value = String(line[line.index(after: eq)...])
            guard let first = key.first, first.isLetter, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw INIError(line: n + 1, text: line, reason: "malformed key")
            }
            guard !value.isEmpty, value.first != " ", value.last != " " else {
                throw INIError(line: n + 1, text: line, reason: "empty or padded value")
            }
            guard !sections.isEmpty else { throw INIError(line: n + 1, text: line, reason: "key outside any section") }
            sections[sections.count - 1].entries.append((key, value))
        }
        return sections
    }
}
