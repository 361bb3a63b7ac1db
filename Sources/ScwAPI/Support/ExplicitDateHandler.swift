import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Lets a handler's response keep the `Date` it chose. Hummingbird stamps `Date` after the handler, from a cache
/// that lags by up to a second, over whatever the handler set; a response that must carry an exact `Date` (a token's
/// `iat` is its response's `Date`) sets `X-Scw-Mock-Date` instead, and this handler, at the tail of the pipeline where
/// only Hummingbird's responses pass, moves it into `Date`.
final class ExplicitDateHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head(var head) = unwrapOutboundIn(data), let date = head.headerFields[.scwMockDate] {
            head.headerFields[.scwMockDate] = nil
            head.headerFields[.date] = date
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            return
        }
        context.write(data, promise: promise)
    }
}
