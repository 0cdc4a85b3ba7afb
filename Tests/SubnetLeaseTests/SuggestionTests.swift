// The one "did you mean" rule (net-conf.json keys, the agent's config file keys).
import SubnetLease
import Testing

@Suite struct SuggestionTests {
    @Test func namesTheClosestCandidateIgnoringCase() {
        #expect(Suggestion.closest(to: "SubnetLength", in: ["Network", "SubnetLen", "SubnetMin"]) == "SubnetLen")
        #expect(Suggestion.closest(to: "subnetlen", in: ["Network", "SubnetLen"]) == "SubnetLen")
        #expect(Suggestion.closest(to: "etcd-pasword", in: ["etcd-password", "etcd-prefix"]) == "etcd-password")
    }

    @Test func suggestsNothingWhenNothingIsClose() {
        #expect(Suggestion.closest(to: "Colour", in: ["Network", "SubnetLen"]) == nil)
        #expect(Suggestion.closest(to: "x", in: [String]()) == nil)
        // Length alone rules a hostile key out: it is not compared letter by letter.
        #expect(Suggestion.closest(to: String(repeating: "a", count: 65_536), in: ["Network"]) == nil)
    }

    @Test func aTieGoesToTheNameThatSortsFirstWhateverTheOrder() {
        #expect(Suggestion.closest(to: "ab", in: ["ax", "aa"]) == "aa")
        #expect(Suggestion.closest(to: "ab", in: ["aa", "ax"]) == "aa")
    }

    @Test func theLimitGrowsWithTheWord() {
        // Two edits are always allowed; a 12-letter word may have four.
        #expect(Suggestion.closest(to: "Netwrk", in: ["Network"]) == "Network")
        #expect(Suggestion.closest(to: "IPv6SubnetLength", in: ["IPv6SubnetLen"]) == "IPv6SubnetLen")
        #expect(Suggestion.closest(to: "Nt", in: ["Network"]) == nil)
    }
}
