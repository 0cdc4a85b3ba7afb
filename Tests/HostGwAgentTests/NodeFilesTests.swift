import Foundation
import NetAddress
import Netlink
import Testing

@testable import HostGwAgent

@Suite struct NodeFilesTests {
    let info = PodNetworkInfo(
        network: IPPrefix("10.244.0.0/16"), subnet: IPPrefix("10.244.3.0/24"),
        ipv6Network: IPPrefix("fd00:1::/48"), ipv6Subnet: IPPrefix("fd00:1:0:3::/64"), mtu: 1500)

    @Test func subnetEnvIsFlannelCompatible() {
        #expect(renderSubnetEnv(info) == """
            FLANNEL_NETWORK=10.244.0.0/16
            FLANNEL_SUBNET=10.244.3.1/24
            FLANNEL_IPV6_NETWORK=fd00:1::/48
            FLANNEL_IPV6_SUBNET=fd00:1:0:3::1/64
            FLANNEL_MTU=1500
            FLANNEL_IPMASQ=false

            """)
    }

    @Test func conflistUsesBridgeAndHostLocalWithoutMasquerade() throws {
        let text = try renderCNIConflist(info)
        struct Conf: Decodable {
            struct Plugin: Decodable {
                struct IPAM: Decodable { var type: String; var ranges: [[[String: String]]] }
                var type: String; var ipMasq: Bool; var ipam: IPAM
            }
            var cniVersion: String; var plugins: [Plugin]
        }
        let conf = try JSONDecoder().decode(Conf.self, from: Data(text.utf8))
        #expect(conf.plugins.count == 1)
        #expect(conf.plugins[0].type == "bridge")
        #expect(conf.plugins[0].ipMasq == false)
        #expect(conf.plugins[0].ipam.type == "host-local")
        #expect(conf.plugins[0].ipam.ranges == [[["subnet": "10.244.3.0/24"]], [["subnet": "fd00:1:0:3::/64"]]])
    }
}
