import ScwDomain
import Testing

@Suite struct PagingTests {
    @Test func defaultsAndBounds() throws {
        #expect(try PageRequest.parse(page: nil, pageSize: nil, orderBy: nil) == PageRequest(page: 1, pageSize: 20, order: .createdAtAsc))
        #expect(try PageRequest.parse(page: "3", pageSize: "0", orderBy: "name_desc") == PageRequest(page: 3, pageSize: 20, order: .nameDesc))
        #expect(try PageRequest.parse(page: "1", pageSize: "100", orderBy: nil).pageSize == 100)
        #expect(try PageRequest.parse(page: "2", pageSize: "1", orderBy: nil).offset == 1)
    }

    @Test(arguments: [("0", nil, nil, "page"), ("-1", nil, nil, "page"), ("a", nil, nil, "page"),
                      (nil, "101", nil, "page_size"), (nil, "-1", nil, "page_size"), (nil, "1e9", nil, "page_size"),
                      (nil, nil, "bogus", "order_by")] as [(String?, String?, String?, String)])
    func refusesBadValues(_ page: String?, _ size: String?, _ order: String?, _ argument: String) {
        #expect(throws: ScwError.self) { try PageRequest.parse(page: page, pageSize: size, orderBy: order) }
        do {
            _ = try PageRequest.parse(page: page, pageSize: size, orderBy: order)
        } catch {
            guard case .invalidArguments(let problems) = error else { Issue.record("wrong error \(error)"); return }
            #expect(problems.map(\.argumentName) == [argument])
        }
    }
}
