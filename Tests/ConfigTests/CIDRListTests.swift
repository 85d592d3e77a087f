import Testing

@testable import Config

@Suite("CIDRList")
struct CIDRListTests {
    private let list: CIDRList

    init() throws {
        list = try CIDRList(parsing: "10.0.0.0/8, 192.168.1.7, 2001:db8::/32, ::1/128, 172.16.0.0/12")
    }

    @Test(
        "matches addresses inside the networks",
        arguments: [
            "10.0.0.1", "10.255.255.255", "192.168.1.7", "2001:db8::1", "2001:db8:ffff::", "::1", "172.31.0.1",
            "::ffff:10.1.2.3",
        ])
    func matches(address: String) {
        #expect(list.contains(ipText: address))
        #expect(
            address.utf8.withContiguousStorageIfAvailable { list.contains(ipTextBytes: UnsafeRawBufferPointer($0)) }
                == true)
    }

    @Test(
        "does not match outside addresses or junk",
        arguments: [
            "11.0.0.1", "192.168.1.8", "2001:db9::1", "::2", "172.32.0.1", "", "garbage", "10.0.0.1 ", " 10.0.0.1",
            "10.0.0.1/8", "010.0.0.1", "10.0.0", "fe80::1%eth0", "[::1]", "10.0.0.1:80",
            String(repeating: "1", count: 100), "::ffff:11.1.2.3",
        ])
    func doesNotMatch(address: String) {
        #expect(!list.contains(ipText: address))
    }

    @Test("matches raw socket address bytes")
    func rawBytes() throws {
        let v4: [UInt8] = [10, 1, 2, 3]
        let address = try #require(v4.withUnsafeBytes { IPAddress(networkBytes: $0) })
        #expect(list.contains(address))
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
        let address6 = try #require(v6.withUnsafeBytes { IPAddress(networkBytes: $0) })
        #expect(list.contains(address6))
        #expect([UInt8](repeating: 0, count: 5).withUnsafeBytes { IPAddress(networkBytes: $0) } == nil)
    }

    @Test("0.0.0.0/0 matches every IPv4 address but no native IPv6")
    func everything() throws {
        let all = try CIDRList(parsing: "0.0.0.0/0")
        #expect(all.contains(ipText: "203.0.113.9"))
        #expect(!all.contains(ipText: "2001:db8::1"))
        let all6 = try CIDRList(parsing: "::/0")
        #expect(all6.contains(ipText: "2001:db8::1") && all6.contains(ipText: "1.2.3.4"))
    }

    @Test("the empty list matches nothing", arguments: ["", " ", " , "])
    func empty(text: String) throws {
        let empty = try CIDRList(parsing: text)
        #expect(empty.isEmpty && !empty.contains(ipText: "127.0.0.1"))
    }

    @Test(
        "refuses hostile entries naming TRUSTED_PROXIES",
        arguments: [
            "10.0.0.0/33", "10.0.0.1/8", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/", "/8", "10.0.0.0/8/8",
            "2001:db8::/129", "2001:db8::1/32", "example.com/8", "10.0.0.0/ 8", "10.0.0.0/08x", "*",
            "10.0.0.0/8; rm -rf",
        ])
    func refuses(text: String) {
        #expect {
            try CIDRList(parsing: "127.0.0.1, " + text)
        } throws: { error in
            String(describing: error).hasPrefix("TRUSTED_PROXIES: expected a comma-separated list of IPv4/IPv6 CIDRs")
        }
    }
}
