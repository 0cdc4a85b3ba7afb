// Fuzzes what an etcd endpoint (or anything answering on its port) sends back: JSON gateway
// replies and watch-stream lines, through the etcd store's own decoding.
import Foundation
import FuzzSupport
@testable import SubnetLease

@main
enum FuzzEtcdWire {
    static func main() {
        fuzzMain { bytes in
            _ = EtcdStore.decodeWireForFuzzing(Data(bytes))
        }
    }
}
