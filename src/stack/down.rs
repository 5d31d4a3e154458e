//! `down`: remove the project's containers and network, and its volumes only when asked. Only
//! objects labelled with this project are ever touched.

use std::time::Duration;

use futures_util::future::join_all;

use super::Error;
use super::docker::Engine;
use crate::report::{Event, Object, Reporter};

/// What `down` removed.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct DownReport {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

pub async fn down<E: Engine>(
    engine: &E,
    project: &str,
    volumes: bool,
    report_to: &dyn Reporter,
) -> Result<DownReport, Error> {
    let mut report = DownReport::default();
    let containers = engine.containers(project).await?;
    let removals = containers.iter().map(|c| engine.remove(&c.id, Duration::from_secs(10)));
    for (container, result) in containers.iter().zip(join_all(removals).await) {
        result?;
        report_to.emit(Event::Removed { object: Object::Container, name: container.name.clone() });
        report.containers.push(container.name.clone());
    }
    for network in engine.project_networks(project).await? {
        engine.remove_network(&network).await?;
        report_to.emit(Event::Removed { object: Object::Network, name: network.clone() });
        report.networks.push(network);
    }
    let kept = engine.project_volumes(project).await?;
    if volumes {
        for volume in kept {
            engine.remove_volume(&volume).await?;
            report_to.emit(Event::Removed { object: Object::Volume, name: volume.clone() });
            report.volumes.push(volume);
        }
    } else if !kept.is_empty() {
        report_to.emit(Event::VolumesKept { names: kept });
    }
    Ok(report)
}
