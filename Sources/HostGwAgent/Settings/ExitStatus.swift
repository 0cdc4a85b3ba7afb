// The process's exit statuses: what scripts, systemd units and the e2e drills rely on.

/// Exit codes from sysexits.h that scripts and systemd units rely on.
enum ExitStatus {
    static let usage: Int32 = 64  // EX_USAGE: a bad flag
    static let dataError: Int32 = 65  // EX_DATAERR: bad input data (e.g. net-conf.json)
    static let unavailable: Int32 = 69  // EX_UNAVAILABLE: a needed service (store) is unreachable
    static let software: Int32 = 70  // EX_SOFTWARE
    static let noPermission: Int32 = 77  // EX_NOPERM: missing CAP_NET_ADMIN
    static let config: Int32 = 78  // EX_CONFIG: a bad setting in env or config file
}
