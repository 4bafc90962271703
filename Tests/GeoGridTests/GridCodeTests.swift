import GeoGrid
import Testing

@Suite struct GridCodeTests {
    @Test func fifteenAndFourteenDigitForms() throws {
        let g = try #require(GridCode("110101001002003"))
        #expect(g.district == "110101" && g.street == "110101001" && g.community == "110101001002" && g.sequence == 3)
        #expect(!g.isLegacy)
        let old = try #require(GridCode("11010100100207"))
        #expect(old.isLegacy && old.community == "110101001002" && old.sequence == 7)
    }

    @Test(arguments: ["", "11010100100200", "110101001002000", "1101010010020031", "1101010010020", "01010100100200A", "11010100100200a",
        "010101001002003", "１１０１０１００１００２００３"])
    func rejectsMalformedCodes(_ text: String) {
        #expect(GridCode(text) == nil)
        #expect(!GridCode.problem(with: text).isEmpty)
    }
}
