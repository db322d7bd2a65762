//! Choosing a Burn backend at run time.
//!
//! Library crates never pick a backend; this module is the one place that does, from the
//! facade's cargo features (`flex` default, `tch`, `wgpu`, `vulkan`, `metal`, `cuda`) and a
//! runtime name such as `--backend wgpu`.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

/// A backend burnish can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// burn-flex: pure-Rust CPU backend (the default).
    Flex,
    /// LibTorch on the CPU (burn-tch).
    Tch,
    /// LibTorch on CUDA device 0 (burn-tch).
    TchCuda,
    /// WGPU: Vulkan, Metal or DX12, whatever the machine offers.
    Wgpu,
    /// CubeCL CUDA on device 0.
    Cuda,
}

impl BackendKind {
    /// Every backend name `--backend` accepts.
    pub const ALL: [BackendKind; 5] = [
        BackendKind::Flex,
        BackendKind::Tch,
        BackendKind::TchCuda,
        BackendKind::Wgpu,
        BackendKind::Cuda,
    ];

    /// The runtime name (`flex`, `tch`, `tch-cuda`, `wgpu`, `cuda`).
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Tch => "tch",
            BackendKind::TchCuda => "tch-cuda",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Cuda => "cuda",
        }
    }

    /// The cargo feature that compiles this backend in.
    pub fn feature(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Tch | BackendKind::TchCuda => "tch",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Cuda => "cuda",
        }
    }

    /// Whether this build includes the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::Flex => cfg!(feature = "flex"),
            BackendKind::Tch | BackendKind::TchCuda => cfg!(feature = "tch"),
            BackendKind::Wgpu => cfg!(feature = "wgpu"),
            BackendKind::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// The backends this build includes.
    pub fn compiled() -> Vec<BackendKind> {
        Self::ALL.into_iter().filter(|b| b.is_compiled()).collect()
    }

    /// The device (without autodiff) for this backend.
    ///
    /// # Errors
    /// [`BackendError::NotCompiled`] naming the cargo feature to enable.
    pub fn device(self) -> Result<Device, BackendError> {
        if !self.is_compiled() {
            return Err(BackendError::NotCompiled {
                backend: self,
                compiled: Self::compiled(),
            });
        }
        Ok(self.device_unchecked())
    }

    /// The device numbered `index` of this backend, for data-parallel training over several
    /// (`--devices 0,1`): the CUDA device `index` (`cuda`, `tch-cuda`), the `index`-th discrete
    /// GPU (`wgpu`). The CPU backends (`flex`, `tch`) have one device, which every index names.
    ///
    /// # Errors
    /// [`BackendError::NotCompiled`] naming the cargo feature to enable.
    #[allow(unreachable_code, deprecated)]
    // Built with the CPU backends only, no arm reads `index`.
    #[cfg_attr(
        not(any(feature = "tch", feature = "wgpu", feature = "cuda")),
        allow(unused_variables)
    )]
    pub fn device_at(self, index: usize) -> Result<Device, BackendError> {
        let device = self.device()?;
        Ok(match self {
            BackendKind::Flex | BackendKind::Tch => device,
            #[cfg(feature = "tch")]
            BackendKind::TchCuda => Device::libtorch_cuda(index),
            #[cfg(feature = "wgpu")]
            BackendKind::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(index)),
            #[cfg(feature = "cuda")]
            BackendKind::Cuda => Device::cuda(index),
            #[allow(unreachable_patterns)]
            _ => unreachable!("checked by device()"),
        })
    }

    /// Whether this backend runs on the CPU, where every device index names the same device.
    pub fn is_cpu(self) -> bool {
        matches!(self, BackendKind::Flex | BackendKind::Tch)
    }

    #[allow(unreachable_code, deprecated)]
    fn device_unchecked(self) -> Device {
        match self {
            #[cfg(feature = "flex")]
            BackendKind::Flex => Device::flex(),
            #[cfg(feature = "tch")]
            BackendKind::Tch => Device::libtorch(),
            #[cfg(feature = "tch")]
            BackendKind::TchCuda => Device::libtorch_cuda(0),
            #[cfg(feature = "wgpu")]
            BackendKind::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            #[cfg(feature = "cuda")]
            BackendKind::Cuda => Device::cuda(0),
            #[allow(unreachable_patterns)]
            _ => unreachable!("checked by is_compiled"),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = BackendError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| BackendError::Unknown(s.to_string()))
    }
}

/// The device for a backend named at run time (`flex`, `tch`, `tch-cuda`, `wgpu`, `cuda`).
///
/// # Errors
/// [`BackendError::Unknown`] for a name not in the list, [`BackendError::NotCompiled`] for a
/// backend this build lacks.
pub fn device(name: &str) -> Result<Device, BackendError> {
    name.parse::<BackendKind>()?.device()
}

/// The devices of a data-parallel run on the backend named `name`: one per index (see
/// [`BackendKind::device_at`]), or the backend's one default device when `indices` is empty.
///
/// # Errors
/// As [`device`]; [`BackendError::DuplicateDevice`] for an index given twice.
pub fn devices(name: &str, indices: &[usize]) -> Result<Vec<Device>, BackendError> {
    let kind = name.parse::<BackendKind>()?;
    if indices.is_empty() {
        return Ok(vec![kind.device()?]);
    }
    for (i, index) in indices.iter().enumerate() {
        if indices[..i].contains(index) {
            return Err(BackendError::DuplicateDevice(*index));
        }
    }
    indices.iter().map(|&i| kind.device_at(i)).collect()
}

/// Why a backend cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The name is not a backend.
    #[error("unknown backend `{0}` (expected one of: flex, tch, tch-cuda, wgpu, cuda)")]
    Unknown(String),
    /// A device index listed twice in `--devices`.
    #[error("device {0} is listed twice in --devices")]
    DuplicateDevice(usize),
    /// The backend exists but this binary was built without it.
    #[error(
        "backend `{backend}` is not compiled into this build; rebuild with `--features {}` \
         (compiled in: {})",
        .backend.feature(),
        .compiled.iter().map(|b| b.name()).collect::<Vec<_>>().join(", ")
    )]
    NotCompiled {
        /// The backend asked for.
        backend: BackendKind,
        /// The backends this build has.
        compiled: Vec<BackendKind>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_an_error() {
        for b in BackendKind::ALL {
            assert_eq!(b.name().parse::<BackendKind>().unwrap(), b);
        }
        assert!(matches!(
            "tpu".parse::<BackendKind>(),
            Err(BackendError::Unknown(_))
        ));
    }

    #[test]
    fn missing_backend_names_the_feature() {
        let absent = BackendKind::ALL.into_iter().find(|b| !b.is_compiled());
        if let Some(b) = absent {
            let msg = b.device().unwrap_err().to_string();
            assert!(
                msg.contains(&format!("--features {}", b.feature())),
                "{msg}"
            );
        }
        #[cfg(feature = "flex")]
        assert!(device("flex").is_ok());
    }

    #[test]
    fn device_lists_for_data_parallel_runs() {
        let kind = BackendKind::compiled()[0];
        assert_eq!(devices(kind.name(), &[]).unwrap().len(), 1);
        assert!(matches!(
            devices(kind.name(), &[0, 1, 0]),
            Err(BackendError::DuplicateDevice(0))
        ));
        assert!(matches!(
            devices("tpu", &[0]),
            Err(BackendError::Unknown(_))
        ));
        #[cfg(feature = "flex")]
        {
            // The CPU has one device: every index names it.
            let cpu = devices("flex", &[0, 1]).unwrap();
            assert_eq!(cpu.len(), 2);
            assert_eq!(cpu[0], cpu[1]);
        }
    }
}
