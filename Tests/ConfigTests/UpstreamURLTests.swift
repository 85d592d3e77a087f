import Testing

@testable import Config

@Suite("UpstreamURL")
struct UpstreamURLTests {
    @Test(
        "accepts http URLs and normalises the base path",
        arguments: [
            ("http://127.0.0.1:8001", "127.0.0.1", 8001, ""),
            ("http://localhost", "localhost", 80, ""),
            ("HTTP://svc.internal:9000/base/", "svc.internal", 9000, "/base"),
            ("http://[::1]:8080/a/b", "::1", 8080, "/a/b"),
            ("http://10.0.0.2:1/", "10.0.0.2", 1, ""),
        ])
    func accepts(text: String, host: String, port: Int, base: String) throws {
        let url = try UpstreamURL(parsing: text, variable: "UPSTREAM")
        #expect(url.host == host && url.port == port && url.basePath == base)
    }

    @Test(
        "refuses other schemes, user info, queries, fragments and junk",
        arguments: [
            "https://x:443", "ftp://x", "file:///etc/passwd", "//x:80", "x:80", "http://", "http://:80",
            "http://user:pw@x:80", "http://x@y", "http://x:80/?q=1", "http://x:80/#f", "http://x:0", "http://x:65536",
            "http://x:-1", "http://x:80:90", "http://[::1", "http://[zz]:80", "http://::1:80", "http://x:80/a/../b",
            "http://x:80/%2e%2e", "http://x y:80", "http://x:80/a b", "http://x:80\n", "http://x:8o",
            "http://x:80//a", "http://[::1]x", "javascript:alert(1)", "",
        ])
    func refuses(text: String) {
        #expect {
            try UpstreamURL(parsing: text, variable: "UPSTREAM")
        } throws: { error in
            String(describing: error).hasPrefix("UPSTREAM: expected an http://host:port[/base] URL")
        }
    }

    @Test("prints canonically, with brackets for IPv6")
    func description() throws {
        #expect(try UpstreamURL(parsing: "http://[::1]:80/x", variable: "U").description == "http://[::1]:80/x")
        #expect(try UpstreamURL(parsing: "http://a", variable: "U").description == "http://a:80")
    }
}
