//! Command-line types (clap derive) and nothing else: parsing only, no behaviour.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A local DevOps lab orchestrator for learning Python backend development.
///
/// labforge scaffolds production-grade FastAPI, Flask and Django projects with tests, lint
/// configuration, a Dockerfile, Kubernetes manifests and a GitHub Actions workflow.
#[derive(Debug, Parser)]
#[command(name = "labforge", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold the default project, bring it up on Docker and print where it answers
    Quickstart(QuickstartArgs),
    /// Scaffold a new Python backend project from a template
    New(NewArgs),
    /// List the templates, their options, defaults and valid combinations
    Templates(TemplatesArgs),
    /// Start the project's stack on Docker and prove every service ready
    Up(UpArgs),
    /// Remove the project's containers and network (volumes only with --volumes)
    Down(DownArgs),
    /// Show the project's containers, their state and addresses
    Status(StatusArgs),
    /// Print a service's log (all services without SERVICE)
    Logs(LogsArgs),
    /// Check Docker, disk, ports, CA certificates and the optional tools
    Doctor,
    /// Hands-on labs: list, start, show, hint, solve, reset, validate, selftest
    Lab(LabArgs),
    /// Check the current lab step (or another) and say what passes, what fails and why
    Check(CheckArgs),
    /// A local Kubernetes cluster on kind: create, delete, status
    Cluster(ClusterArgs),
    /// Deploy to Kubernetes: build, load, apply k8s/, wait for the rollout, prove the app answers
    Deploy(DeployArgs),
    /// Remove from the cluster what `deploy` applied (volumes stay)
    Undeploy(UndeployArgs),
    /// GitHub Actions: set up the repository, its files and secrets; lint the workflows
    Ci(CiArgs),
}

#[derive(Debug, Args)]
pub struct CiArgs {
    #[command(subcommand)]
    pub command: CiCommand,
}

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Create or use a repository, push the project in one commit, set the workflow's secrets
    Setup(CiSetupArgs),
    /// Check the workflows (actionlint when it is on PATH, else labforge's structural checks)
    Lint(CiLintArgs),
    /// Start a workflow and find the run it started; --watch follows it to its verdict
    Run(CiRunArgs),
    /// The runs of the project's HEAD commit
    Status(CiStatusArgs),
    /// Print a run's job logs (its failed jobs', unless --all)
    Logs(CiLogsArgs),
}

/// Which repository a `ci` command talks to, and where its API is.
#[derive(Debug, Args)]
pub struct CiRepo {
    #[command(flatten)]
    pub project: ProjectDir,

    /// The repository, OWNER/NAME [default: the one `ci setup` last pushed to]
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,

    /// The API root, for GitHub Enterprise Server [default: https://HOST/api/v3 for $GH_HOST, else
    /// https://api.github.com]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,

    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CiRunArgs {
    #[command(flatten)]
    pub at: CiRepo,

    /// The workflow file (in .github/workflows) or id
    #[arg(long, value_name = "FILE", default_value = "ci.yml")]
    pub workflow: String,

    /// The branch or tag to run on [default: the branch `ci setup` pushed to, else the default one]
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,

    /// Follow the run's jobs and steps until it ends; exit 1 when it fails
    #[arg(long)]
    pub watch: bool,

    /// Minutes `--watch` waits for the run to end
    #[arg(long, value_name = "MINUTES", default_value_t = 60)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct CiStatusArgs {
    #[command(flatten)]
    pub at: CiRepo,

    /// The commit [default: the project's git HEAD, else the commit `ci setup` pushed]
    #[arg(long, value_name = "SHA")]
    pub sha: Option<String>,
}

#[derive(Debug, Args)]
pub struct CiLogsArgs {
    #[command(flatten)]
    pub at: CiRepo,

    /// The run's id [default: the latest run of the project's HEAD commit]
    pub run: Option<u64>,

    /// Every job's log, not only the failed ones'
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct CiSetupArgs {
    #[command(flatten)]
    pub project: ProjectDir,

    /// The repository, OWNER/NAME
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: String,

    /// Create the repository when it does not exist
    #[arg(long)]
    pub create: bool,

    /// Make the created repository private
    #[arg(long, requires = "create")]
    pub private: bool,

    /// The branch to push to [default: the repository's default branch]
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,

    /// A secret's value from a file, NAME=@FILE (else labforge.yaml's `ci.secrets` come from .env)
    #[arg(long = "secret", value_name = "NAME=@FILE")]
    pub secrets: Vec<String>,

    /// The API root, for GitHub Enterprise Server [default: https://HOST/api/v3 for $GH_HOST, else
    /// https://api.github.com]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,

    /// Print what was done as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CiLintArgs {
    #[command(flatten)]
    pub project: ProjectDir,

    /// Print the problems as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub command: ClusterCommand,
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Create a kind cluster (or reuse the one of that name), reachable from 127.0.0.1 only
    Create(ClusterCreateArgs),
    /// Delete a kind cluster and its registry (nothing to delete is not an error)
    Delete(ClusterNameArgs),
    /// Show whether the cluster exists, its nodes, context and registry
    Status(ClusterStatusArgs),
}

#[derive(Debug, Args)]
pub struct ClusterNameArgs {
    /// The cluster's name
    #[arg(long, default_value = "labforge")]
    pub name: String,

    /// The kubeconfig kind writes the cluster's context to [default: $KUBECONFIG or ~/.kube/config]
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ClusterCreateArgs {
    #[command(flatten)]
    pub cluster: ClusterNameArgs,

    /// Also run a local registry (127.0.0.1:--registry-port) the nodes pull from
    #[arg(long)]
    pub registry: bool,

    /// The host port (on 127.0.0.1) of the registry
    #[arg(long, value_name = "PORT", default_value_t = 5001)]
    pub registry_port: u16,

    /// The registry's image
    #[arg(long, value_name = "IMAGE", default_value = "registry:2")]
    pub registry_image: String,

    /// The host port (on 127.0.0.1) that reaches the app's NodePort Service
    #[arg(long, value_name = "PORT", default_value_t = 8080)]
    pub port: u16,

    /// Seconds the cluster may take to be ready
    #[arg(long, value_name = "SECONDS", default_value_t = 180)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct ClusterStatusArgs {
    #[command(flatten)]
    pub cluster: ClusterNameArgs,

    /// Print machine-readable JSON
    #[arg(long)]
    pub json: bool,
}

/// Which cluster and namespace a Kubernetes command acts on.
#[derive(Debug, Args)]
pub struct KubeTarget {
    /// The kubeconfig file [default: $KUBECONFIG or ~/.kube/config]
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context [default: its current context]
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// The namespace [default: the context's, else `default`]
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub project: ProjectDir,

    #[command(flatten)]
    pub target: KubeTarget,

    /// A registry the cluster pulls from (`HOST[:PORT]/PATH`); the image is pushed there and
    /// pulled by digest. Needed for any cluster but kind
    #[arg(long, value_name = "HOST/PATH")]
    pub registry: Option<String>,

    /// Seconds the rollout may take
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,

    /// Change nothing in the cluster: the API server validates each change without storing it
    #[arg(long)]
    pub dry_run: bool,

    /// A CA certificate (PEM) to trust while building the app image [default: $PIP_CERT,
    /// $SSL_CERT_FILE or $REQUESTS_CA_BUNDLE]
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UndeployArgs {
    #[command(flatten)]
    pub project: ProjectDir,

    #[command(flatten)]
    pub target: KubeTarget,

    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LabArgs {
    #[command(subcommand)]
    pub command: LabCommand,

    /// A folder of labs to use instead of the built-in catalog [env: LABFORGE_LABS]
    #[arg(long, value_name = "PATH", global = true)]
    pub labs_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// List the labs, their topics and your progress
    List {
        /// Print machine-readable JSON
        #[arg(long)]
        json: bool,
    },
    /// Start a lab: scaffold its project, lay the starter files over it, bring the stack up
    Start {
        /// The lab's id (see `labforge lab list`)
        id: String,
        /// Directory to create the lab in [default: ./ID]
        #[arg(long, value_name = "PATH")]
        dir: Option<PathBuf>,
        /// Write into a non-empty directory
        #[arg(long)]
        force: bool,
    },
    /// Show the current step's instructions (or another step's)
    Show(StepArgs),
    /// Show the next hint for the current step
    Hint(StepArgs),
    /// Lay a step's reference solution over the project (for facilitators and stuck learners)
    Solve {
        #[command(flatten)]
        step: StepArgs,
        /// Overwrite files you changed
        #[arg(long)]
        force: bool,
    },
    /// Start the lab's progress over (with --force, also restore the starter files)
    Reset {
        #[command(flatten)]
        project: ProjectDir,
        /// Also lay the starter files over the project again, replacing your changes
        #[arg(long)]
        force: bool,
    },
    /// Check lab definitions and report every problem with its file:line:column
    Validate {
        /// A lab folder, or a folder of labs [default: the catalog]
        path: Option<PathBuf>,
    },
    /// Prove labs work: each step fails on the starter and passes on the solution
    Selftest {
        /// The lab to test
        id: Option<String>,
        /// Test every lab of the catalog
        #[arg(long, conflicts_with = "id")]
        all: bool,
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
        /// Where labs with `k8s` checks deploy their starter and solution; without a cluster
        /// that answers, those checks are reported as not run
        #[command(flatten)]
        target: KubeTarget,
        /// A registry the cluster pulls from (`HOST[:PORT]/PATH`), for any cluster but kind
        #[arg(long, value_name = "HOST/PATH")]
        registry: Option<String>,
        /// A GitHub repository (created when missing) labs with `github` checks are pushed to and
        /// run in; without it (or a token) those checks are reported as not run
        #[arg(long, value_name = "OWNER/NAME")]
        github_repo: Option<String>,
    },
}

/// Which step of which lab workspace.
#[derive(Debug, Args)]
pub struct StepArgs {
    #[command(flatten)]
    pub project: ProjectDir,
    /// The step, by number (1 is the first) or id [default: the current step]
    #[arg(long, value_name = "N")]
    pub step: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub step: StepArgs,
    /// Check every step of the lab
    #[arg(long, conflicts_with = "step")]
    pub all: bool,
    /// Print machine-readable JSON
    #[arg(long)]
    pub json: bool,
    /// Check again whenever a project file changes
    #[arg(long, conflicts_with = "json")]
    pub watch: bool,
    /// Check the project as `labforge deploy` runs it on a cluster (through port-forwards and
    /// exec), instead of its stack on Docker
    #[arg(long)]
    pub cluster: bool,
    /// The cluster of `--cluster` and of the `k8s` checks
    #[command(flatten)]
    pub target: KubeTarget,
    /// A folder of labs to use instead of the built-in catalog [env: LABFORGE_LABS]
    #[arg(long, value_name = "PATH")]
    pub labs_dir: Option<PathBuf>,
}

/// Where a stack command finds its project.
#[derive(Debug, Args)]
pub struct ProjectDir {
    /// The project folder, holding labforge.yaml
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub project: ProjectDir,

    /// Build and run the production image instead of the reloading development server
    #[arg(long)]
    pub prod: bool,

    /// Seconds each service may take to become ready
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub timeout: u64,

    /// Fail instead of choosing a free port when a requested host port is in use
    #[arg(long)]
    pub strict_ports: bool,

    /// A CA certificate (PEM) to trust while building the app image [default: $PIP_CERT,
    /// $SSL_CERT_FILE or $REQUESTS_CA_BUNDLE]
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub project: ProjectDir,

    /// Also remove the project's volumes: its database data
    #[arg(long)]
    pub volumes: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub project: ProjectDir,

    /// Print machine-readable JSON
    #[arg(long)]
    pub json: bool,

    /// The project's workloads on the cluster `deploy` deployed to, instead of its containers
    #[arg(long)]
    pub cluster: bool,

    #[command(flatten)]
    pub target: KubeTarget,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub project: ProjectDir,

    /// The service (as named in labforge.yaml)
    pub service: Option<String>,

    /// Keep printing new lines as they are written
    #[arg(long, short = 'f')]
    pub follow: bool,

    /// How many of the last lines to print
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub tail: usize,

    /// The app's pods on the cluster `deploy` deployed to, instead of the containers on Docker
    #[arg(long)]
    pub cluster: bool,

    #[command(flatten)]
    pub target: KubeTarget,
}

#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// Project name
    #[arg(default_value = "shop")]
    pub name: String,

    /// Directory to create the project in [default: ./NAME]
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,

    /// Seconds each service may take to become ready
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    labforge new shop\n  \
    labforge new shop --framework flask --db none --auth none\n  \
    labforge new shop --with graphql,ratelimit --dry-run")]
pub struct NewArgs {
    /// Project name: lowercase ASCII letters, digits, '-' and '_', starting with a letter
    pub name: String,

    /// Web framework (a built-in template); see `labforge templates`
    #[arg(long, short = 'f', value_name = "NAME", conflicts_with = "template_dir")]
    pub framework: Option<String>,

    /// Database: postgres, mongo or none (what the template supports)
    #[arg(long, value_name = "DB")]
    pub db: Option<String>,

    /// Authentication: jwt or none
    #[arg(long, value_name = "AUTH")]
    pub auth: Option<String>,

    /// Extras to include, comma-separated: graphql, ratelimit, oauth (what the template supports)
    #[arg(long = "with", value_name = "EXTRAS", value_delimiter = ',')]
    pub with: Option<Vec<String>>,

    /// Set any template variable, e.g. `--set description="Orders API"` (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Directory to create the project in [default: ./NAME]
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,

    /// Render a template kept outside labforge (a folder with a template.yaml)
    #[arg(long, value_name = "PATH")]
    pub template_dir: Option<PathBuf>,

    /// Write into a non-empty directory, overwriting files the template produces
    #[arg(long)]
    pub force: bool,

    /// Print the files that would be written, and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Never ask: use defaults for every option not given
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct TemplatesArgs {
    /// Print machine-readable JSON
    #[arg(long)]
    pub json: bool,

    /// Describe a template kept outside labforge instead of the built-in ones
    #[arg(long, value_name = "PATH")]
    pub template_dir: Option<PathBuf>,
}
