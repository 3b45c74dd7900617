//! The parts of the lab, in the order `raibid up` brings them up.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    K3s,
    Namespaces,
    Redis,
    Gitea,
    Flux,
    Keda,
    Ci,
    Gpu,
    Sparky,
}

impl Component {
    pub const ALL: [Component; 9] = [
        Component::K3s,
        Component::Namespaces,
        Component::Redis,
        Component::Gitea,
        Component::Flux,
        Component::Keda,
        Component::Ci,
        Component::Gpu,
        Component::Sparky,
    ];

    /// The name used on the command line, in files and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Component::K3s => "k3s",
            Component::Namespaces => "namespaces",
            Component::Redis => "redis",
            Component::Gitea => "gitea",
            Component::Flux => "flux",
            Component::Keda => "keda",
            Component::Ci => "ci",
            Component::Gpu => "gpu",
            Component::Sparky => "sparky",
        }
    }

    /// What the component is, for the Cluster view and progress lines.
    pub fn title(self) -> &'static str {
        match self {
            Component::K3s => "k3s",
            Component::Namespaces => "namespaces",
            Component::Redis => "Redis (job queue)",
            Component::Gitea => "Gitea (git + registry)",
            Component::Flux => "Flux (GitOps)",
            Component::Keda => "KEDA",
            Component::Ci => "raibid server + agents",
            Component::Gpu => "NVIDIA GPU",
            Component::Sparky => "Sparky + Ollama",
        }
    }

    /// Components Flux applies from the gitops repository rather than the console.
    pub fn via_gitops(self) -> bool {
        matches!(self, Component::Ci | Component::Sparky)
    }

    /// Its pods run raibid's own image (`cluster.image`).
    pub fn runs_raibid_image(self) -> bool {
        matches!(self, Component::Ci | Component::Sparky)
    }

    pub fn from_name(name: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.name() == name)
    }
}
