// The one parser of the address and prefix literals that fixtures are written in. A malformed
// literal is a failed test at the line that wrote it (`#require`), never a crash of the whole
// test process.
public import NetAddress
public import Testing

/// `10.244.2.0/24`, `fd00:10:244:2::/64` (strict: no host bits).
public func prefix(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> IPPrefix {
    try #require(IPPrefix(text), "not a prefix: \(text)", sourceLocation: sourceLocation)
}

/// `10.0.0.2`, `fd00::2`.
public func ip(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> IPAddress {
    try #require(IPAddress(text), "not an IP address: \(text)", sourceLocation: sourceLocation)
}
