// Libraries take a Logger; tests hand them one that drops everything and assert on outcomes
// (SubnetLeaseTests' LogCapture is for the few tests about what is logged).
public import Logging

public let quietLogger = Logger(label: "hostgw-test", factory: { _ in SwiftLogNoOpLogHandler() })
