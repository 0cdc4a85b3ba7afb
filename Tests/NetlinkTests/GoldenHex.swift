// Golden bytes for the codec tests, written as hex with a comment per wire field.

/// Hex with whitespace and `#` comments to the end of a line: one line per wire field.
func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let digits = code.filter { !$0.isWhitespace }
        precondition(digits.count % 2 == 0, "odd hex digits in \(line)")
        var i = digits.startIndex
        while i < digits.endIndex {
            let j = digits.index(i, offsetBy: 2)
            guard let b = UInt8(digits[i..<j], radix: 16) else { preconditionFailure("bad hex \(digits[i..<j])") }
            bytes.append(b)
            i = j
        }
    }
    return bytes
}
