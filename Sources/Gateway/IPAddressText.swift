#if canImport(Glibc)
    import Glibc
#endif

/// Checks that text is a literal IPv4 or IPv6 address, by `inet_pton`.
enum IPAddressText {
    static func isValid(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 45 else { return false }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return true }
        var v6 = in6_addr()
        return inet_pton(AF_INET6, text, &v6) == 1
    }
}
