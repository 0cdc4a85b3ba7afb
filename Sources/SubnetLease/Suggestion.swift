// "Did you mean ...?": the one typo suggestion, for unknown keys of the agent's config file and
// unknown keys of net-conf.json alike.

/// Suggests a known name for a misspelt one.
public enum Suggestion {
    /// The candidate closest to `word` by edit distance, ignoring case, when it is close enough to
    /// be a likely typo: at most max(2, a third of the word's length) edits. Of two equally close
    /// candidates the one that sorts first wins, so the answer does not depend on the order of
    /// `candidates`. nil when nothing is that close.
    public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let w = Array(word.lowercased())
        let limit = max(2, w.count / 3)
        // The distance is at least the difference in length: skip what cannot be close, so a
        // hostile 64 KB key costs nothing (the full table would be 64 K rows per candidate).
        let best = candidates.lazy.filter { abs($0.count - w.count) <= limit }
            .map { ($0, distance(w, Array($0.lowercased()))) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let best, best.1 <= limit else { return nil }
        return best.0
    }

    /// Levenshtein distance: an insertion, a deletion or a substitution each cost one.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, cb) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
