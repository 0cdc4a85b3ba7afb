// Golden documents for Fixtures.leases at Fixtures.time. Written by hand from the format specs;
// a change here is a change to what external hosts consume.
import NetAddress
import ExternalPeers
import Netlink

enum RouteProtocolFixture {
    static let custom = RouteProtocol(201)
}

enum Goldens {
    static let byFormat: [ExternalRouteFormat: String] = [
        .ip: ip, .ipBatch: ipBatch, .networkd: networkd, .netplan: netplan, .ansible: ansible, .json: json,
    ]

    static let header = """
        # hostgw external routes: every node's pod subnet via that node. Generated; do not edit.
        # store: etcd http://10.0.0.1:2379 prefix /coreos.com/network
        # revision: 42
        # generated: 2025-01-02T03:04:05Z
        # routes: 5

        """

    static let ip = "#!/bin/sh\n" + header + """
        # apply: sh FILE (as root); replacing makes a second run change nothing
        # list: ip route show proto 77; ip -6 route show proto 77
        # remove: ip route flush proto 77; ip -6 route flush proto 77
        set -e
        ip route replace 10.244.0.0/24 via 10.0.0.10 proto 77
        ip route replace 10.244.1.0/24 via 10.0.0.11 proto 77  # node: node-a
        ip route replace 10.244.2.0/24 via 10.0.0.12 proto 77  # node: node-b
        ip route replace 10.244.3.0/24 via 10.0.0.13 proto 77  # node: node-c
        ip route replace fd00:10:244:1::/64 via fd00::11 proto 77  # node: node-a

        """

    static let ipBatch = header + """
        # apply: ip -batch FILE (as root); replacing makes a second run change nothing
        # list: ip route show proto 77; ip -6 route show proto 77
        # remove: ip route flush proto 77; ip -6 route flush proto 77
        route replace 10.244.0.0/24 via 10.0.0.10 proto 77
        route replace 10.244.1.0/24 via 10.0.0.11 proto 77  # node: node-a
        route replace 10.244.2.0/24 via 10.0.0.12 proto 77  # node: node-b
        route replace 10.244.3.0/24 via 10.0.0.13 proto 77  # node: node-c
        route replace fd00:10:244:1::/64 via fd00::11 proto 77  # node: node-a

        """

    static let networkd = header + """
        # install: /etc/systemd/network/<the link's .network file>.d/hostgw-routes.conf, then networkctl reload

        [Route]
        Destination=10.244.0.0/24
        Gateway=10.0.0.10

        [Route]
        # node: node-a
        Destination=10.244.1.0/24
        Gateway=10.0.0.11

        [Route]
        # node: node-b
        Destination=10.244.2.0/24
        Gateway=10.0.0.12

        [Route]
        # node: node-c
        Destination=10.244.3.0/24
        Gateway=10.0.0.13

        [Route]
        # node: node-a
        Destination=fd00:10:244:1::/64
        Gateway=fd00::11

        """

    static let netplan = header + """
        # install: /etc/netplan/90-hostgw-routes.yaml (mode 0600), then netplan apply
        network:
          version: 2
          ethernets:
            "eth0":
              routes:
                - to: "10.244.0.0/24"
                  via: "10.0.0.10"
                - to: "10.244.1.0/24"
                  via: "10.0.0.11"
                - to: "10.244.2.0/24"
                  via: "10.0.0.12"
                - to: "10.244.3.0/24"
                  via: "10.0.0.13"
                - to: "fd00:10:244:1::/64"
                  via: "fd00::11"

        """

    static let ansible = header + """
        # install: a vars file (group_vars/<group>/hostgw.yml) for a role that loops over hostgw_external_routes
        hostgw_external_routes:
          - dest: "10.244.0.0/24"
            via: "10.0.0.10"
            node: null
          - dest: "10.244.1.0/24"
            via: "10.0.0.11"
            node: "node-a"
          - dest: "10.244.2.0/24"
            via: "10.0.0.12"
            node: "node-b"
          - dest: "10.244.3.0/24"
            via: "10.0.0.13"
            node: "node-c"
          - dest: "fd00:10:244:1::/64"
            via: "fd00::11"
            node: "node-a"

        """

    static let json = """
        {
          "generated" : "2025-01-02T03:04:05Z",
          "revision" : 42,
          "routes" : [
            {
              "destination" : "10.244.0.0/24",
              "family" : "ipv4",
              "gateway" : "10.0.0.10",
              "node" : null
            },
            {
              "destination" : "10.244.1.0/24",
              "family" : "ipv4",
              "gateway" : "10.0.0.11",
              "node" : "node-a"
            },
            {
              "destination" : "10.244.2.0/24",
              "family" : "ipv4",
              "gateway" : "10.0.0.12",
              "node" : "node-b"
            },
            {
              "destination" : "10.244.3.0/24",
              "family" : "ipv4",
              "gateway" : "10.0.0.13",
              "node" : "node-c"
            },
            {
              "destination" : "fd00:10:244:1::/64",
              "family" : "ipv6",
              "gateway" : "fd00::11",
              "node" : "node-a"
            }
          ],
          "store" : "etcd http://10.0.0.1:2379 prefix /coreos.com/network"
        }

        """
}
