// Why a reconcile pass failed as a whole. A netlink failure keeps its errno; anything else is
// reported as what it is, never under a made-up errno.
public import Netlink

/// Why a pass failed as a whole; nothing was applied or remembered then. Per-route kernel errors
/// are in `PassReport.results` instead.
public enum PassError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Reading the kernel's routes, links or addresses failed in netlink.
    case readKernel(NetlinkError)
    /// A step failed with an error that is not netlink's (no errno to report), kept as text.
    case other(step: String, text: String)

    /// The step that failed, as status and logs name it.
    public static let readKernelStep = "reading the kernel's routes, links or addresses"
    public static let sendBatchStep = "sending the route batch"

    /// The netlink error behind the failure, when there is one.
    public var netlinkError: NetlinkError? {
        switch self {
        case .readKernel(let e): e
        case .other: nil
        }
    }

    /// The text of `lastPassError` in status (`reading the kernel's ... failed: ...`).
    public var description: String {
        switch self {
        case .readKernel(let e): "\(Self.readKernelStep) failed: \(e)"
        case .other(let step, let text): "\(step) failed: \(text)"
        }
    }
}
