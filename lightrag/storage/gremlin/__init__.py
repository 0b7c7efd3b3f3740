"""Graph storage on a Gremlin Server (Apache TinkerPop), over gremlinpython."""
