import Foundation
import GeoGrid
import TestSupport
import Testing

@Suite struct JSONParserTests {
    @Test func numbersMatchFoundationsConversion() throws {
        // Foundation's Double(String) (strtod) is the oracle; the fast path must agree bit for bit.
        var rng = SystemRandomNumberGenerator()
        var texts = ["0", "-0", "1e5", "1E-5", "24.9351766", "60.1641551", "123456789012345", "1234567890123456789",
            "0.1", "0.30000000000000004", "5e-324", "1.7976931348623157e308", "-12.5e+3", "0.000001234", "9007199254740993"]
        for _ in 0..<2000 {
            let v = Double.random(in: -180...180, using: &rng)
            texts.append(String(format: "%.*f", Int.random(in: 0...12, using: &rng), v))
            texts.append("\(v)")
        }
        for t in texts {
            let parsed = try JSONParser.parse("[\(t)]")
            guard case .numbers(let n) = parsed else { Issue.record("\(t) did not parse as numbers"); continue }
            #expect(n == [Double(t)!], "\(t)")
        }
    }

    @Test func stringsWithEscapes() throws {
        let v = try JSONParser.parse(#"{"a":"x\"y\\z\/\n\t\u00e9\ud83d\ude00 道"}"#)
        #expect(v["a"] == .string("x\"y\\z/\n\té😀 道"))
    }

    @Test(arguments: [
        ("{\"a\":1,}", "expected a member name"), ("[1,2", "unexpected end"), ("{\"a\" 1}", "expected ':'"),
        ("[01]", "leading zero"), ("[1.]", "invalid number"), ("\"abc", "unterminated"), ("[NaN]", "unexpected character"),
        ("[tru]", "invalid literal"), ("\"\\ud800\"", "unpaired surrogate"), ("{} {}", "unexpected text"),
    ])
    func rejectsMalformedText(_ text: String, _ message: String) {
        #expect {
            _ = try JSONParser.parse(text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func agreesWithJSONSerializationOnEveryFixture() throws {
        var checked = 0
        for folder in ["geojsonhint/good", "geojson-invalid-geometry/valid", "geojson-invalid-geometry/problematic_geometries"] {
            for url in Fixtures.files(in: folder) {
                let data = try Data(contentsOf: url)
                let ours = try JSONParser.parse(data)
                let theirs = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
                #expect(Self.difference(ours, theirs) == nil, "\(url.lastPathComponent)")
                checked += 1
            }
        }
        #expect(checked > 30)
    }

    /// The path of the first difference, or nil when both hold the same JSON.
    static func difference(_ a: JSONValue, _ b: Any, _ path: String = "$") -> String? {
        switch a {
        case .null: return b is NSNull ? nil : path
        case .bool(let x): return (b as? Bool) == x ? nil : path
        case .number(let x):
            // Structure is what this compares: Foundation's parser on Linux is off by a few ulps for 17-digit
            // numbers (strtod and GeoGrid agree; numbersMatchFoundationsConversion checks that bit for bit).
            guard let y = (b as? NSNumber)?.doubleValue, abs(x - y) <= abs(x) * 1e-15 else { return "\(path): \(x) vs \(b)" }
            return nil
        case .string(let s): return (b as? String) == s ? nil : path
        case .numbers, .array:
            guard let items = a.arrayValue, let other = b as? [Any], items.count == other.count else { return "\(path): array" }
            for (i, (x, y)) in zip(items, other).enumerated() { if let d = difference(x, y, "\(path)[\(i)]") { return d } }
            return nil
        case .object(let members):
            guard let other = b as? [String: Any], other.count == members.count else { return "\(path): object" }
            for (k, v) in members {
                guard let o = other[k] else { return "\(path).\(k) missing" }
                if let d = difference(v, o, "\(path).\(k)") { return d }
            }
            return nil
        }
    }
}
