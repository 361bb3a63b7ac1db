import ScwDomain

/// A v1beta1 token or attachment request names its application as `container_id` on the containers API and `function_id` on
/// the functions API.
protocol NamesApplication {
    var container_id: String? { get }
    var function_id: String? { get }
}

extension NamesApplication {
    /// The id given under the API's own argument (the other one is ignored, as Scaleway does).
    func applicationID(_ api: TokenAPI) -> String? {
        switch api {
        case .containers: container_id
        case .functions: function_id
        }
    }
}

extension V1Beta1.CreateTokenRequest: NamesApplication {}
extension V1Beta1.CronRequest: NamesApplication {}
extension V1Beta1.DomainRequest: NamesApplication {}
extension V1Beta1.TriggerRequest: NamesApplication {}
