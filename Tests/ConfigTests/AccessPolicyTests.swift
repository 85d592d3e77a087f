import Foundation
import Testing

@testable import Config

@Suite("AccessPolicy and route rules from PORTAL_CONFIG")
struct AccessPolicyTests {
    private func policy(_ json: String) throws -> AccessPolicy { try AccessPolicy(json: Data(json.utf8)) }

    @Test("the defaults: four roles, admin holds every scope, service accounts l01 to l12")
    func defaults() {
        let policy = AccessPolicy.defaultPolicy
        #expect(Set(policy.roles.keys) == ["admin", "developer", "viewer", "service"])
        #expect(policy.scopes(forRoles: ["admin"]).all)
        #expect(policy.scopes(forRoles: ["developer"]) == (["events:read", "events:write"], false))
        #expect(policy.scopes(forRoles: ["viewer", "intruder"]) == (["events:read"], false))
        #expect(policy.serviceAccounts.count == 12 && policy.serviceAccounts["l09"]?.roles == ["service"])
        #expect(policy.serviceAccounts["l13"] == nil)
    }

    @Test("roles and service accounts from the file replace the defaults of the same name and add new ones")
    func fromFile() throws {
        let print = String(repeating: "AB", count: 32)
        let policy = try policy(
            """
            {"routes": [], "roles": {"viewer": ["events:read", "audit:read"], "auditor": ["audit:read"]},
             "service_accounts": {"l03": {"scopes": ["events:write"], "certificates": [
                 {"sha256": "\(stride(from: 0, to: 64, by: 2).map { _ in "ab" }.joined(separator: ":"))"},
                 {"subject": "CN=l03,O=Story Portal"}]},
               "batch-job": {"roles": ["developer"]}}}
            """)
        #expect(policy.scopes(forRoles: ["viewer"]).scopes == ["events:read", "audit:read"])
        #expect(policy.scopes(forRoles: ["auditor"]).scopes == ["audit:read"])
        #expect(policy.scopes(forRoles: ["admin"]).all)
        let l03 = try #require(policy.serviceAccounts["l03"])
        #expect(l03.scopes == ["events:write"] && l03.roles == ["service"])
        #expect(policy.serviceAccount(certificateFingerprint: print.lowercased(), subject: nil)?.id == "l03")
        #expect(policy.serviceAccount(certificateFingerprint: nil, subject: "CN=l03,O=Story Portal")?.id == "l03")
        #expect(policy.serviceAccount(certificateFingerprint: nil, subject: "CN=l03,O=Other") == nil)
        #expect(policy.serviceAccounts["batch-job"]?.roles == ["developer"])
        #expect(policy.serviceAccounts["l01"] != nil)
    }

    @Test(
        "a bad policy stops loading with the JSON path of the problem",
        arguments: [
            (#"{"roles": {"Admin": ["x"]}}"#, "PORTAL_CONFIG: $.roles.Admin"),
            (#"{"roles": {"ops": ["*", "events:read"]}}"#, "PORTAL_CONFIG: $.roles.ops"),
            (#"{"roles": {"ops": ["has space"]}}"#, "PORTAL_CONFIG: $.roles.ops[0]"),
            (#"{"service_accounts": {"l03": {"scope": []}}}"#, "PORTAL_CONFIG: $.service_accounts.l03: unknown key"),
            (#"{"service_accounts": {"l03": {"certificates": [{"sha256": "abc"}]}}}"#, "certificates[0]"),
            (#"{"service_accounts": []}"#, "PORTAL_CONFIG: $.service_accounts"),
        ])
    func badPolicy(json: String, prefix: String) {
        #expect {
            try policy(json)
        } throws: { error in
            String(describing: error).contains(prefix)
        }
    }

    @Test("route rules name roles per route or per method; a public route can name none")
    func routeRoles() throws {
        let table = try RouteTable(
            json: Data(
                """
                {"routes": [
                  {"prefix": "/a", "upstream": "http://127.0.0.1:1", "methods": ["GET", "POST"], "roles": ["admin"]},
                  {"prefix": "/b", "upstream": "http://127.0.0.1:1", "roles": ["viewer"],
                   "scopes_by_method": {"GET": ["b:read"], "DELETE": {"roles": ["admin"]}, "PUT": {"scopes": ["b:w"]}}},
                  {"prefix": "/c", "upstream": "http://127.0.0.1:1", "methods": ["GET"]}
                ]}
                """.utf8))
        let a = try #require(table.match(path: "/a"))
        #expect(a.requiredRoles(for: "POST") == ["admin"] && a.hasRule(for: "GET"))
        let b = try #require(table.match(path: "/b"))
        #expect(b.requiredRoles(for: "GET") == ["viewer"] && b.requiredScopes(for: "GET") == ["b:read"])
        #expect(b.requiredRoles(for: "DELETE") == ["admin"] && b.requiredScopes(for: "DELETE") == [])
        #expect(b.requiredRoles(for: "PUT") == ["viewer"] && b.requiredScopes(for: "PUT") == ["b:w"])
        // A method that names no scope and no role has no rule: the gateway denies it.
        #expect(try #require(table.match(path: "/c")).hasRule(for: "GET") == false)
        #expect {
            try RouteTable(
                json: Data(
                    (#"{"routes": [{"prefix": "/p", "upstream": "http://h:1", "methods": ["GET"], "public": true, "#
                        + #""roles": ["admin"]}]}"#).utf8))
        } throws: { error in
            String(describing: error).contains("a public route cannot require roles")
        }
    }
}
