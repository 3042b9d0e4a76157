import JSONCore
import QlikEngine

extension Doc {
    /// Creates a session object from `properties`, returns its layout and destroys it again (also
    /// when reading fails), so tools leave no objects behind in the session.
    func sessionLayout(_ properties: JSONValue) async throws -> JSONValue {
        let object = try await createSessionObject(properties)
        do {
            let layout = try await object.layout()
            _ = try? await destroySessionObject(object.genericID)
            return layout
        } catch {
            _ = try? await destroySessionObject(object.genericID)
            throw error
        }
    }
}
