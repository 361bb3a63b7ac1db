import Hummingbird
import ScwDomain
import ScwEngine

/// Reads the `container_id` or `function_id` a route names, when it names one (a filter, a move).
private func applicationRef(ifGiven raw: String?, api: TokenAPI) throws -> ApplicationRef? {
    guard raw != nil else { return nil }
    return try applicationRef(raw, api: api)
}

/// Reads the `container_id` or `function_id` a route requires.
private func applicationRef(_ raw: String?, api: TokenAPI) throws -> ApplicationRef {
    let argument = api.namespaceKind.applicationArgument
    let id: Identifier<Never> = try requiredBodyID(raw, argument: argument)
    return api.namespaceKind.ref(id.rawValue)
}

/// A cron's `args` must be a JSON object (Go SDK: `*scw.JSONObject`, Python: `dict`).
private func checkArgs(_ args: JSONDocument?) throws {
    if let args, case .object = args {} else if args != nil {
        throw ScwError.invalid("args", .format, "args must be a JSON object")
    }
}

/// Crons of containers and functions v1beta1. A cron is a trigger with a cron source.
struct CronController {
    let api: TokenAPI
    let service: TriggerService

    var appArgument: String { api.namespaceKind.applicationArgument }

    func mount(on routes: RouteTable<APIRequestContext>) {
        routes.get("crons") { request, context -> V1Beta1.ListCronsResponse in
            let app = try applicationRef(request.query(appArgument), api: api)
            let page = try service.list(AttachmentQuery(region: try context.region(), cronsOnly: true, product: api.namespaceKind,
                                                        application: app.rawValue, namespaceID: nil, sourceType: nil, projectIDs: nil,
                                                        organizationID: WellKnownIdentity.organizationID,
                                                        page: try request.pageRequest(orders: creationOrders), orderColumn: "name"),
                                        by: context.principal)
            return .init(crons: page.items.map { V1Beta1.Cron($0) }, total_count: page.totalCount)
        }
        routes.post("crons") { request, context -> V1Beta1.Cron in
            let body = try await WireJSON.decodeBody(V1Beta1.CronRequest.self, from: request, context: context)
            let app = try applicationRef(body.applicationID(api), api: api)
            guard let schedule = body.schedule else { throw ScwError.invalid("schedule", .required, "required key not provided") }
            try checkArgs(body.args)
            let draft = TriggerService.Draft(application: app, name: body.name, description: "", tags: [],
                                             source: .cron(schedule: schedule, timezone: "UTC", body: V1Beta1.Cron.body(body.args), headers: [:]))
            return V1Beta1.Cron(try service.create(draft, region: try context.region(), by: context.principal))
        }
        routes.get("crons/:cron_id") { _, context -> V1Beta1.Cron in
            V1Beta1.Cron(try service.get(try context.id("cron_id"), cronsOnly: true, product: api.namespaceKind,
                                         region: try context.region(), by: context.principal))
        }
        routes.patch("crons/:cron_id") { request, context -> V1Beta1.Cron in
            let body = try await WireJSON.decodeBody(V1Beta1.CronRequest.self, from: request, context: context)
            try checkArgs(body.args)
            let moveTo = try applicationRef(ifGiven: body.applicationID(api), api: api)
            let id: TriggerID = try context.id("cron_id")
            let region = try context.region()
            let principal = context.principal
            if let moveTo, moveTo != (try service.get(id, cronsOnly: true, product: api.namespaceKind, region: region, by: principal)).application {
                throw ScwError.invalid(appArgument, .constraint, "a cron cannot move to another \(api.applicationKind.rawValue)")
            }
            return V1Beta1.Cron(try service.update(id, cronsOnly: true, product: api.namespaceKind, region: region, by: principal,
                                                   redeploys: true) { t in
                guard case .cron(let schedule, let timezone, let oldBody, let headers) = t.source else { return }
                t.source = .cron(schedule: body.schedule ?? schedule, timezone: timezone,
                                 body: body.args.map { V1Beta1.Cron.body($0) } ?? oldBody, headers: headers)
                if let name = body.name { t.name = name }
            })
        }
        routes.delete("crons/:cron_id") { _, context -> V1Beta1.Cron in
            V1Beta1.Cron(try service.delete(try context.id("cron_id"), cronsOnly: true, product: api.namespaceKind,
                                            region: try context.region(), by: context.principal))
        }
    }
}

/// Custom domains of containers and functions v1beta1: create, get, list, delete.
struct V1Beta1DomainController {
    let api: TokenAPI
    let service: DomainService

    func mount(on routes: RouteTable<APIRequestContext>) {
        let argument = api.namespaceKind.applicationArgument
        routes.get("domains") { request, context -> V1Beta1.ListDomainsResponse in
            let app = try applicationRef(request.query(argument), api: api)
            let page = try service.list(AttachmentQuery(region: try context.region(), cronsOnly: nil, product: api.namespaceKind,
                                                        application: app.rawValue, namespaceID: nil, sourceType: nil, projectIDs: nil,
                                                        organizationID: WellKnownIdentity.organizationID,
                                                        page: try request.pageRequest(orders: hostnameOrders), orderColumn: "hostname"),
                                        by: context.principal)
            return .init(domains: page.items.map { V1Beta1.Domain($0) }, total_count: page.totalCount)
        }
        routes.post("domains") { request, context -> V1Beta1.Domain in
            let body = try await WireJSON.decodeBody(V1Beta1.DomainRequest.self, from: request, context: context)
            let app = try applicationRef(body.applicationID(api), api: api)
            guard let hostname = body.hostname else { throw ScwError.invalid("hostname", .required, "required key not provided") }
            return V1Beta1.Domain(try service.create(application: app, hostname: hostname, tags: [], region: try context.region(),
                                                     by: context.principal))
        }
        routes.get("domains/:domain_id") { _, context -> V1Beta1.Domain in
            V1Beta1.Domain(try service.get(try context.id("domain_id"), product: api.namespaceKind, region: try context.region(),
                                           by: context.principal))
        }
        routes.delete("domains/:domain_id") { _, context -> V1Beta1.Domain in
            V1Beta1.Domain(try service.delete(try context.id("domain_id"), product: api.namespaceKind, region: try context.region(),
                                              by: context.principal))
        }
    }
}

/// Triggers of containers and functions v1beta1: SQS/NATS inputs; crons have their own routes.
struct V1Beta1TriggerController {
    let api: TokenAPI
    let service: TriggerService

    func mount(on routes: RouteTable<APIRequestContext>) {
        let argument = api.namespaceKind.applicationArgument
        routes.get("triggers") { request, context -> V1Beta1.ListTriggersResponse in
            let page = try service.list(AttachmentQuery(
                region: try context.region(), cronsOnly: false, product: api.namespaceKind,
                application: try applicationRef(ifGiven: request.query(argument), api: api)?.rawValue,
                namespaceID: try request.queryID("namespace_id"), sourceType: nil, projectIDs: nil,
                organizationID: WellKnownIdentity.organizationID, page: try request.pageRequest(orders: creationOrders), orderColumn: "name"),
                projectID: try request.queryID("project_id"), organizationID: try request.queryID("organization_id"),
                by: context.principal)
            return .init(triggers: page.items.map { V1Beta1.Trigger($0) }, total_count: page.totalCount)
        }
        routes.post("triggers") { request, context -> V1Beta1.Trigger in
            let body = try await WireJSON.decodeBody(V1Beta1.TriggerRequest.self, from: request, context: context)
            let app = try applicationRef(body.applicationID(api), api: api)
            guard let name = body.name else { throw ScwError.invalid("name", .required, "required key not provided") }
            let source: TriggerSource
            switch (body.scw_sqs_config, body.scw_nats_config, body.sqs_config) {
            case (let c?, nil, nil):
                source = .scwSQS(queue: c.queue ?? "", mnqProjectID: c.mnq_project_id ?? "", mnqRegion: c.mnq_region ?? "fr-par")
            case (nil, let c?, nil):
                source = .scwNATS(subject: c.subject ?? "", mnqNATSAccountID: c.mnq_nats_account_id ?? "", mnqProjectID: c.mnq_project_id ?? "",
                                  mnqRegion: c.mnq_region ?? "fr-par")
            case (nil, nil, let c?):
                source = .sqs(region: "", endpoint: c.endpoint ?? "", queueURL: c.queue_url ?? "", accessKeyID: c.access_key ?? "",
                              secretAccessKey: c.secret_key ?? "")
            default:
                throw ScwError.invalid("scw_sqs_config", .constraint, "exactly one of scw_sqs_config, scw_nats_config and sqs_config must be set")
            }
            let draft = TriggerService.Draft(application: app, name: name, description: body.description ?? "", tags: [], source: source)
            return V1Beta1.Trigger(try service.create(draft, region: try context.region(), by: context.principal))
        }
        routes.get("triggers/:trigger_id") { _, context -> V1Beta1.Trigger in
            V1Beta1.Trigger(try service.get(try context.id("trigger_id"), cronsOnly: false, product: api.namespaceKind,
                                            region: try context.region(), by: context.principal))
        }
        routes.patch("triggers/:trigger_id") { request, context -> V1Beta1.Trigger in
            let body = try await WireJSON.decodeBody(V1Beta1.TriggerRequest.self, from: request, context: context)
            return V1Beta1.Trigger(try service.update(try context.id("trigger_id"), cronsOnly: false, product: api.namespaceKind,
                                                      region: try context.region(), by: context.principal) { t in
                if let name = body.name { t.name = name }
                if let description = body.description { t.description = description }
                if let c = body.sqs_config, case .sqs(let region, let endpoint, let queueURL, let accessKey, let secret) = t.source {
                    t.source = .sqs(region: region, endpoint: endpoint, queueURL: queueURL, accessKeyID: c.access_key ?? accessKey,
                                    secretAccessKey: c.secret_key ?? secret)
                }
            })
        }
        routes.delete("triggers/:trigger_id") { _, context -> V1Beta1.Trigger in
            V1Beta1.Trigger(try service.delete(try context.id("trigger_id"), cronsOnly: false, product: api.namespaceKind,
                                               region: try context.region(), by: context.principal))
        }
    }
}

/// Custom domains of containers v1: CRUD with tags.
struct V1DomainController {
    let service: DomainService

    func mount(on routes: RouteTable<APIRequestContext>) {
        routes.get("domains") { request, context -> V1.ListDomainsResponse in
            let page = try service.list(AttachmentQuery(
                region: try context.region(), cronsOnly: nil, product: .container,
                application: try applicationRef(ifGiven: request.query("container_id"), api: .containers)?.rawValue,
                namespaceID: try request.queryID("namespace_id"), sourceType: nil, projectIDs: nil,
                organizationID: WellKnownIdentity.organizationID, page: try request.pageRequest(orders: hostnameOrders), orderColumn: "hostname"),
                projectID: try request.queryID("project_id"), organizationID: try request.queryID("organization_id"),
                by: context.principal)
            return .init(domains: page.items.map(V1.Domain.init), total_count: page.totalCount)
        }
        routes.post("domains") { request, context -> V1.Domain in
            let body = try await WireJSON.decodeBody(V1.DomainRequest.self, from: request, context: context)
            let app = try applicationRef(body.container_id, api: .containers)
            guard let hostname = body.hostname else { throw ScwError.invalid("hostname", .required, "required key not provided") }
            return V1.Domain(try service.create(application: app, hostname: hostname, tags: body.tags ?? [], region: try context.region(),
                                                by: context.principal))
        }
        routes.get("domains/:domain_id") { _, context -> V1.Domain in
            V1.Domain(try service.get(try context.id("domain_id"), product: .container, region: try context.region(), by: context.principal))
        }
        routes.patch("domains/:domain_id") { request, context -> V1.Domain in
            let body = try await WireJSON.decodeBody(V1.DomainRequest.self, from: request, context: context)
            return V1.Domain(try service.update(try context.id("domain_id"), tags: body.tags, region: try context.region(),
                                                by: context.principal))
        }
        routes.delete("domains/:domain_id") { _, context -> V1.Domain in
            V1.Domain(try service.delete(try context.id("domain_id"), product: .container, region: try context.region(), by: context.principal))
        }
    }
}

/// Triggers of containers v1: cron, SQS and NATS sources; secrets are never echoed.
struct V1TriggerController {
    let service: TriggerService

    static let orders: [String: ListOrder] = Dictionary(uniqueKeysWithValues: ListOrder.allCases.map { ($0.rawValue, $0) })

    func mount(on routes: RouteTable<APIRequestContext>) {
        routes.get("triggers") { request, context -> V1.ListTriggersResponse in
            let type = request.query("trigger_type")
            if let type, !["cron", "sqs", "nats"].contains(type) {
                throw ScwError.invalid("trigger_type", .format, "trigger_type must be one of cron, sqs, nats")
            }
            let page = try service.list(AttachmentQuery(
                region: try context.region(), cronsOnly: nil, product: .container,
                application: try applicationRef(ifGiven: request.query("container_id"), api: .containers)?.rawValue,
                namespaceID: try request.queryID("namespace_id"), sourceType: type, projectIDs: nil,
                organizationID: WellKnownIdentity.organizationID, page: try request.pageRequest(orders: Self.orders), orderColumn: "name"),
                projectID: try request.queryID("project_id"), organizationID: try request.queryID("organization_id"),
                by: context.principal)
            return .init(triggers: page.items.map(V1.Trigger.init), total_count: page.totalCount)
        }
        routes.post("triggers") { request, context -> V1.Trigger in
            let body = try await WireJSON.decodeBody(V1.TriggerRequest.self, from: request, context: context)
            let app = try applicationRef(body.container_id, api: .containers)
            guard let name = body.name else { throw ScwError.invalid("name", .required, "required key not provided") }
            let source: TriggerSource
            switch (body.cron_config, body.sqs_config, body.nats_config) {
            case (let c?, nil, nil):
                guard let schedule = c.schedule else { throw ScwError.invalid("cron_config.schedule", .required, "required key not provided") }
                guard let timezone = c.timezone else { throw ScwError.invalid("cron_config.timezone", .required, "required key not provided") }
                source = .cron(schedule: schedule, timezone: timezone, body: c.body ?? "", headers: c.headers ?? [:])
            case (nil, let c?, nil):
                source = .sqs(region: c.region ?? "", endpoint: c.endpoint ?? "", queueURL: c.queue_url ?? "", accessKeyID: c.access_key_id ?? "",
                              secretAccessKey: c.secret_access_key ?? "")
            case (nil, nil, let c?):
                source = .nats(serverURLs: c.server_urls ?? [], subject: c.subject ?? "", credentials: c.credentials_file_content ?? "")
            default:
                throw ScwError.invalid("cron_config", .constraint, "exactly one of cron_config, sqs_config and nats_config must be set")
            }
            let draft = TriggerService.Draft(application: app, name: name, description: body.description ?? "", tags: body.tags ?? [],
                                             source: source, httpPath: body.destination_config?.http_path ?? "/",
                                             httpMethod: body.destination_config?.method ?? "post")
            return V1.Trigger(try service.create(draft, region: try context.region(), by: context.principal))
        }
        routes.get("triggers/:trigger_id") { _, context -> V1.Trigger in
            V1.Trigger(try service.get(try context.id("trigger_id"), cronsOnly: nil, product: .container, region: try context.region(),
                                       by: context.principal))
        }
        routes.patch("triggers/:trigger_id") { request, context -> V1.Trigger in
            let body = try await WireJSON.decodeBody(V1.TriggerRequest.self, from: request, context: context)
            return V1.Trigger(try service.update(try context.id("trigger_id"), cronsOnly: nil, product: .container, region: try context.region(),
                                                 by: context.principal) { t in
                if let name = body.name { t.name = name }
                if let description = body.description { t.description = description }
                if let tags = body.tags { t.tags = tags }
                if let d = body.destination_config {
                    if let path = d.http_path { t.httpPath = path }
                    if let method = d.method { t.httpMethod = method }
                }
                // Nulls inside a config mean "unchanged"; changing the source type is delete + create,
                // so a config of another type is refused, as is any config on a v1beta1 trigger with platform credentials.
                let own: String? = switch t.source {
                case .cron: "cron_config"
                case .sqs: "sqs_config"
                case .nats: "nats_config"
                case .scwSQS, .scwNATS: nil
                }
                let sent = [("cron_config", body.cron_config != nil), ("sqs_config", body.sqs_config != nil), ("nats_config", body.nats_config != nil)]
                if let field = sent.first(where: { $0.1 && $0.0 != own })?.0 {
                    throw ScwError.invalid(field, .constraint, own == nil
                        ? "\(field) cannot change a \(t.source.typeName) trigger (platform credentials, managed through v1beta1)"
                        : "\(field) does not match the trigger's source type; changing the source type needs a new trigger")
                }
                switch t.source {
                case .cron(let schedule, let timezone, let cronBody, let headers):
                    if let c = body.cron_config {
                        t.source = .cron(schedule: c.schedule ?? schedule, timezone: c.timezone ?? timezone, body: c.body ?? cronBody,
                                         headers: c.headers ?? headers)
                    }
                case .sqs(let region, let endpoint, let queueURL, let accessKeyID, let secret):
                    if let c = body.sqs_config {
                        t.source = .sqs(region: c.region ?? region, endpoint: c.endpoint ?? endpoint, queueURL: c.queue_url ?? queueURL,
                                        accessKeyID: c.access_key_id ?? accessKeyID, secretAccessKey: c.secret_access_key ?? secret)
                    }
                case .nats(let servers, let subject, let credentials):
                    if let c = body.nats_config {
                        t.source = .nats(serverURLs: c.server_urls ?? servers, subject: c.subject ?? subject,
                                         credentials: c.credentials_file_content ?? credentials)
                    }
                case .scwSQS, .scwNATS:
                    break
                }
            })
        }
        routes.delete("triggers/:trigger_id") { _, context -> V1.Trigger in
            V1.Trigger(try service.delete(try context.id("trigger_id"), cronsOnly: nil, product: .container, region: try context.region(),
                                          by: context.principal))
        }
    }
}
