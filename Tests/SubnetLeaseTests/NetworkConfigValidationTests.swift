import Foundation
import HostGwTestSupport
import NetAddress
import Netlink
import SubnetLease
import Testing

@Suite struct NetworkConfigValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let rule: String
        let json: String
        let field: String
        let mentions: String
        var testDescription: String { rule }
    }

    static let cases: [Case] = [
        Case(rule: "unknown key names the closest valid key", json: #"{"Network": "10.244.0.0/16", "SubnetLength": 24}"#, field: "SubnetLength", mentions: "\"SubnetLen\""),
        Case(rule: "unknown key with no close valid key lists the valid keys", json: #"{"Network": "10.244.0.0/16", "Colour": "red"}"#, field: "Colour", mentions: "unknown key (valid keys: Network,"),
        Case(rule: "unknown Backend key", json: #"{"Network": "10.244.0.0/16", "Backend": {"Typ": "host-gw"}}"#, field: "Backend.Typ", mentions: "Backend.Type"),
        Case(rule: "wrong JSON type for a number", json: #"{"Network": "10.244.0.0/16", "SubnetLen": "24"}"#, field: "SubnetLen", mentions: "must be an integer"),
        Case(rule: "wrong JSON type for a bool", json: #"{"Network": "10.244.0.0/16", "EnableIPv6": "yes"}"#, field: "EnableIPv6", mentions: "true or false"),
        Case(rule: "wrong JSON type for a string", json: #"{"Network": 10}"#, field: "Network", mentions: "must be a string"),
        Case(rule: "backend other than host-gw", json: #"{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}"#, field: "Backend.Type", mentions: "host-gw"),
        Case(rule: "SubnetMin greater than SubnetMax", json: #"{"Network": "10.244.0.0/16", "SubnetMin": "10.244.9.0", "SubnetMax": "10.244.3.0"}"#, field: "SubnetMin", mentions: "greater than SubnetMax"),
        Case(rule: "bound outside the network", json: #"{"Network": "10.244.0.0/16", "SubnetMax": "10.245.3.0"}"#, field: "SubnetMax", mentions: "outside Network"),
        Case(rule: "bound off a subnet boundary", json: #"{"Network": "10.244.0.0/16", "SubnetMin": "10.244.3.128"}"#, field: "SubnetMin", mentions: "boundary"),
        Case(rule: "SubnetLen too long", json: #"{"Network": "10.244.0.0/16", "SubnetLen": 33}"#, field: "SubnetLen", mentions: "between 16 and 30 for Network 10.244.0.0/16"),
        Case(rule: "SubnetLen shorter than the network", json: #"{"Network": "10.244.0.0/16", "SubnetLen": 12}"#, field: "SubnetLen", mentions: "between 16 and 30"),
        Case(rule: "pool too small for the default bounds", json: #"{"Network": "10.244.0.0/16", "SubnetLen": 17}"#, field: "SubnetLen", mentions: "at least 3"),
        Case(rule: "both families disabled", json: #"{"Network": "10.244.0.0/16", "EnableIPv4": false}"#, field: "EnableIPv4", mentions: "both disabled"),
        Case(rule: "IPv6 network given as Network", json: #"{"Network": "fd00:1::/56"}"#, field: "Network", mentions: "use IPv6Network"),
        Case(rule: "IPv4 network given as IPv6Network", json: #"{"Network": "10.244.0.0/16", "EnableIPv6": true, "IPv6Network": "10.245.0.0/16"}"#, field: "IPv6Network", mentions: "use Network"),
        Case(rule: "missing Network with IPv4 enabled", json: #"{"Backend": {"Type": "host-gw"}}"#, field: "Network", mentions: "required"),
        Case(rule: "missing IPv6Network with IPv6 enabled", json: #"{"Network": "10.244.0.0/16", "EnableIPv6": true}"#, field: "IPv6Network", mentions: "required"),
        Case(rule: "host bits in Network", json: #"{"Network": "10.244.1.0/16"}"#, field: "Network", mentions: "host bits"),
        Case(rule: "IPv6 bound with an IPv4 network", json: #"{"Network": "10.244.0.0/16", "SubnetMin": "fd00::"}"#, field: "SubnetMin", mentions: "IPv6 address"),
        Case(rule: "not JSON", json: #"{"Network": "#, field: "(document)", mentions: "not valid JSON"),
    ]

    @Test(arguments: cases)
    func refusesWithTheFieldNamed(_ c: Case) {
        do {
            let parsed = try NetworkConfig(json: Data(c.json.utf8))
            Issue.record("accepted \(c.json) as \(parsed)")
        } catch {
            #expect(error.field == c.field, "\(error)")
            #expect(error.description.contains(c.mentions), "\(error)")
            #expect(error.description.hasPrefix("\(c.field): "), "\(error)")
        }
    }

    @Test func subnetLenErrorReadsAsDocumented() throws {
        let error = #expect(throws: ConfigError.self) { try config(#"{"Network": "10.244.0.0/16", "SubnetLen": 33}"#) }
        #expect(error?.description == "SubnetLen: 33 is invalid: must be between 16 and 30 for Network 10.244.0.0/16")
    }

    @Test func flannelDefaults() throws {
        let c = try config(standardConfigJSON)
        #expect(c.subnetLength == 24)
        #expect(c.subnetMin?.description == "10.244.1.0/24")
        #expect(c.subnetMax?.description == "10.244.254.0/24")
        #expect(c.poolSize(for: .v4) == 254)
        #expect(c.enableIPv4 && !c.enableIPv6)
        #expect(c.backendType == "host-gw")

        let small = try config(#"{"Network": "10.10.0.0/24"}"#)
        #expect(small.subnetLength == 26)
        #expect(small.poolSize(for: .v4) == 2)

        let v6 = try config(#"{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "fd00:1::/56"}"#)
        #expect(v6.ipv6SubnetLength == 64)
        #expect(v6.ipv6SubnetMin?.description == "fd00:1:0:1::/64")
        #expect(v6.ipv6SubnetMax?.description == "fd00:1:0:fe::/64")
        #expect(v6.poolSubnet(0, family: .v6)?.description == "fd00:1:0:1::/64")
    }

    @Test func leaseSubnetChecks() throws {
        let c = try config(#"{"Network": "10.244.0.0/16", "SubnetMin": "10.244.10.0", "SubnetMax": "10.244.20.0"}"#)
        #expect(c.contains(leaseSubnet: try prefix("10.244.15.0/24")))
        #expect(!c.contains(leaseSubnet: try prefix("10.244.21.0/24")))  // past SubnetMax
        #expect(!c.contains(leaseSubnet: try prefix("10.244.15.0/25")))  // wrong length
        #expect(!c.contains(leaseSubnet: try prefix("10.245.15.0/24")))  // outside
        #expect(c.poolSize(for: .v4) == 11)
        #expect(c.poolSubnet(10, family: .v4)?.description == "10.244.20.0/24")
        #expect(c.poolSubnet(11, family: .v4) == nil)
    }

    @Test func encodesBackToFlannelShape() throws {
        let c = try config(#"{"Network": "10.244.0.0/16", "SubnetLen": 25}"#)
        let object = try #require(JSONSerialization.jsonObject(with: try c.jsonData()) as? [String: Any])
        #expect(object["Network"] as? String == "10.244.0.0/16")
        #expect(object["SubnetLen"] as? Int == 25)
        #expect(object["SubnetMin"] as? String == "10.244.0.128")
        #expect((object["Backend"] as? [String: String])?["Type"] == "host-gw")
        #expect(try NetworkConfig(json: try c.jsonData()) == c)
    }
}
