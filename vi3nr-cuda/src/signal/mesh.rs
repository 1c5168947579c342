//! Triangle meshes: OBJ (through `tobj`), STL (binary and ASCII, through `stl_io`) and PLY
//! (ASCII and binary, through `ply-rs-bw`) in, recognised by content; OBJ and binary PLY out.
//!
//! A loaded [`Mesh`] is checked before anything uses it: at least one vertex and one triangle,
//! every coordinate finite, every index in range. Degenerate triangles (a repeated index or
//! zero area) carry no surface and are dropped and counted ([`Mesh::dropped`]); a mesh with
//! nothing else is an error. Polygons are split into fans of triangles.
//!
//! A mesh is fitted in the normalised cube: [`Normalisation`] maps the centre of its bounding
//! box to the origin and its longest half-extent to [`MARGIN`], `u = (x − c)/s`, so the
//! surface sits inside [−0.9, 0.9]³ with room for the near-surface samples around it.

use std::io::{BufReader, Cursor, Write};
use std::path::Path;

use super::{ErrorKind, SignalError};
use crate::export::write_file;

/// The longest half-extent of a normalised mesh: its surface lies in [−MARGIN, MARGIN]³.
pub const MARGIN: f64 = 0.9;

/// The most triangles a mesh may have (checked before any sampling).
pub const MAX_TRIANGLES: usize = 20_000_000;

/// A triangle mesh: vertex positions and triangles of vertex indices, counter-clockwise seen
/// from outside.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mesh {
    /// Vertex positions.
    pub vertices: Vec<[f64; 3]>,
    /// Triangles as indices into `vertices`.
    pub triangles: Vec<[u32; 3]>,
    /// Degenerate triangles the loader dropped.
    pub dropped: usize,
}

/// The map from a mesh's own units into the normalised cube: `u = (x − center) / scale`;
/// distances scale by `scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalisation {
    /// The bounding box's centre, in mesh units.
    pub center: [f64; 3],
    /// Mesh units per normalised unit.
    pub scale: f64,
}

impl Normalisation {
    /// The identity map.
    pub const IDENTITY: Normalisation = Normalisation { center: [0.0; 3], scale: 1.0 };

    /// `x` in mesh units to normalised coordinates.
    pub fn forward(&self, x: [f64; 3]) -> [f64; 3] {
        std::array::from_fn(|k| (x[k] - self.center[k]) / self.scale)
    }

    /// Normalised coordinates `u` back to mesh units.
    pub fn inverse(&self, u: [f64; 3]) -> [f64; 3] {
        std::array::from_fn(|k| u[k] * self.scale + self.center[k])
    }
}

/// A mesh file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeshFormat {
    /// Wavefront OBJ.
    Obj,
    /// STL, binary or ASCII.
    Stl,
    /// PLY, ASCII or binary.
    Ply,
}

/// The mesh format `bytes` hold, judged by content (`path`'s extension only breaks ties: a
/// binary STL whose length does not match its triangle count, i.e. a truncated one, and an OBJ
/// of comments only).
pub fn detect(bytes: &[u8], path: &Path) -> Option<MeshFormat> {
    if bytes.starts_with(b"ply\n") || bytes.starts_with(b"ply\r\n") {
        return Some(MeshFormat::Ply);
    }
    if bytes.len() >= 84 {
        let count = u32::from_le_bytes([bytes[80], bytes[81], bytes[82], bytes[83]]) as u64;
        if 84 + 50 * count == bytes.len() as u64 {
            return Some(MeshFormat::Stl);
        }
    }
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    if trimmed.starts_with("solid") && text.contains("facet") {
        return Some(MeshFormat::Stl);
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().next());
    if let Some(word) = first {
        let obj = ["v", "vt", "vn", "vp", "f", "o", "g", "s", "mtllib", "usemtl", "l"];
        if obj.contains(&word) && !head.contains(&0) {
            return Some(MeshFormat::Obj);
        }
    }
    let named = |ext: &str| {
        path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case(ext))
    };
    if named("obj") && !head.contains(&0) {
        // Text without a single OBJ statement (only comments, say): an empty OBJ.
        return Some(MeshFormat::Obj);
    }
    (named("stl") && bytes.len() >= 84).then_some(MeshFormat::Stl)
}

impl Mesh {
    /// Reads and checks a mesh file.
    pub fn load(path: &Path) -> Result<Mesh, SignalError> {
        let bytes = std::fs::read(path)
            .map_err(|e| SignalError::new(path, ErrorKind::Io, format!("cannot read: {e}")))?;
        Mesh::from_bytes(&bytes, path)
    }

    /// Decodes and checks a mesh from a file's bytes; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Mesh, SignalError> {
        if bytes.is_empty() {
            return Err(SignalError::new(path, ErrorKind::Empty, "empty file (0 bytes)"));
        }
        let (vertices, polygons) = match detect(bytes, path) {
            Some(MeshFormat::Obj) => read_obj(bytes, path)?,
            Some(MeshFormat::Stl) => read_stl(bytes, path)?,
            Some(MeshFormat::Ply) => read_ply(bytes, path)?,
            None => {
                return Err(SignalError::new(
                    path,
                    ErrorKind::Unsupported,
                    "unrecognised content: expected an OBJ, STL or PLY mesh",
                ));
            }
        };
        Mesh::checked(vertices, polygons, path)
    }

    /// A mesh from vertices and polygons (each ≥ 3 indices, split into fans), checked: finite
    /// coordinates, indices in range, degenerate triangles dropped, something left.
    pub fn checked(
        vertices: Vec<[f64; 3]>,
        polygons: Vec<Vec<u64>>,
        path: &Path,
    ) -> Result<Mesh, SignalError> {
        let corrupt = |m: String| SignalError::new(path, ErrorKind::Corrupt, m);
        if vertices.is_empty() {
            return Err(SignalError::new(path, ErrorKind::Empty, "the mesh has no vertices"));
        }
        if let Some(k) = vertices.iter().position(|v| v.iter().any(|c| !c.is_finite())) {
            return Err(corrupt(format!(
                "vertex {k} has a non-finite coordinate ({:?})",
                vertices[k]
            )));
        }
        let n = vertices.len() as u64;
        let mut triangles = Vec::new();
        let mut dropped = 0;
        for (k, p) in polygons.iter().enumerate() {
            if p.len() < 3 {
                return Err(corrupt(format!("face {k} has {} vertices, fewer than 3", p.len())));
            }
            if let Some(&i) = p.iter().find(|&&i| i >= n) {
                return Err(corrupt(format!(
                    "face {k} refers to vertex {i}, but the mesh has {n} vertices"
                )));
            }
            for j in 1..p.len() - 1 {
                let t = [p[0] as u32, p[j] as u32, p[j + 1] as u32];
                if area2(&vertices, t) > 0.0 {
                    triangles.push(t);
                } else {
                    dropped += 1;
                }
            }
            if triangles.len() > MAX_TRIANGLES {
                return Err(SignalError::new(
                    path,
                    ErrorKind::TooLarge,
                    format!("the mesh has more than {MAX_TRIANGLES} triangles (this tool's limit)"),
                ));
            }
        }
        if triangles.is_empty() {
            let what = if dropped == 0 {
                "the mesh has no faces".to_string()
            } else {
                format!("every one of the mesh's {dropped} triangles is degenerate (zero area)")
            };
            return Err(SignalError::new(path, ErrorKind::Empty, what));
        }
        Ok(Mesh { vertices, triangles, dropped })
    }

    /// The three corners of triangle `t`.
    pub fn corners(&self, t: usize) -> [[f64; 3]; 3] {
        self.triangles[t].map(|i| self.vertices[i as usize])
    }

    /// The axis-aligned bounding box `(lo, hi)` of the vertices used by triangles.
    pub fn bounds(&self) -> ([f64; 3], [f64; 3]) {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for t in &self.triangles {
            for &i in t {
                let v = self.vertices[i as usize];
                for k in 0..3 {
                    lo[k] = lo[k].min(v[k]);
                    hi[k] = hi[k].max(v[k]);
                }
            }
        }
        (lo, hi)
    }

    /// The map that puts this mesh's bounding box in the middle of [−1, 1]³, its longest side
    /// spanning [−[`MARGIN`], [`MARGIN`]].
    pub fn normalisation(&self) -> Normalisation {
        let (lo, hi) = self.bounds();
        let center = std::array::from_fn(|k| 0.5 * (lo[k] + hi[k]));
        let half = (0..3).map(|k| 0.5 * (hi[k] - lo[k])).fold(0.0, f64::max);
        Normalisation { center, scale: (half / MARGIN).max(f64::MIN_POSITIVE) }
    }

    /// The mesh with every vertex mapped by `f`.
    pub fn map(&self, f: impl Fn([f64; 3]) -> [f64; 3]) -> Mesh {
        Mesh { vertices: self.vertices.iter().map(|&v| f(v)).collect(), ..self.clone() }
    }

    /// Total surface area.
    pub fn area(&self) -> f64 {
        (0..self.triangles.len())
            .map(|t| 0.5 * area2(&self.vertices, self.triangles[t]).sqrt())
            .sum()
    }

    /// The mesh as Wavefront OBJ text.
    pub fn to_obj(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 * (self.vertices.len() + self.triangles.len()));
        let _ = writeln!(out, "# written by vi3nr");
        for v in &self.vertices {
            let _ = writeln!(out, "v {} {} {}", v[0] as f32, v[1] as f32, v[2] as f32);
        }
        for t in &self.triangles {
            let _ = writeln!(out, "f {} {} {}", t[0] + 1, t[1] + 1, t[2] + 1);
        }
        out
    }

    /// The mesh as binary little-endian PLY (float vertices, uchar-counted int faces).
    pub fn to_ply(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(12 * self.vertices.len() + 13 * self.triangles.len() + 256);
        let _ = write!(
            out,
            "ply\nformat binary_little_endian 1.0\ncomment written by vi3nr\nelement vertex {}\n\
             property float x\nproperty float y\nproperty float z\nelement face {}\n\
             property list uchar int vertex_indices\nend_header\n",
            self.vertices.len(),
            self.triangles.len()
        );
        for v in &self.vertices {
            for c in v {
                out.extend_from_slice(&(*c as f32).to_le_bytes());
            }
        }
        for t in &self.triangles {
            out.push(3);
            for &i in t {
                out.extend_from_slice(&(i as i32).to_le_bytes());
            }
        }
        out
    }

    /// Writes the mesh as OBJ or PLY (by `path`'s extension) through a temporary file renamed
    /// into place.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let bytes = match output_format(path)? {
            MeshFormat::Ply => self.to_ply(),
            _ => self.to_obj(),
        };
        write_file(path, &bytes)
    }
}

/// The output format `path` names: `.obj` or `.ply`.
pub fn output_format(path: &Path) -> Result<MeshFormat, String> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("obj") => Ok(MeshFormat::Obj),
        Some("ply") => Ok(MeshFormat::Ply),
        _ => Err(format!("{}: a mesh is written as .obj or .ply", path.display())),
    }
}

/// Twice the area of triangle `t`, squared (0 for a degenerate one).
fn area2(vertices: &[[f64; 3]], t: [u32; 3]) -> f64 {
    if t[0] == t[1] || t[1] == t[2] || t[0] == t[2] {
        return 0.0;
    }
    let [a, b, c] = t.map(|i| vertices[i as usize]);
    let u = sub(b, a);
    let v = sub(c, a);
    let n = cross(u, v);
    dot(n, n)
}

/// `a − b`.
pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// `a · b`.
pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// `a × b`.
pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

type Parts = (Vec<[f64; 3]>, Vec<Vec<u64>>);

fn read_obj(bytes: &[u8], path: &Path) -> Result<Parts, SignalError> {
    let options =
        tobj::LoadOptions { triangulate: false, single_index: false, ..Default::default() };
    let (models, _materials) =
        tobj::load_obj_buf(&mut BufReader::new(Cursor::new(bytes)), &options, |_| {
            Err(tobj::LoadError::OpenFileFailed)
        })
        .map_err(|e| {
            SignalError::new(path, ErrorKind::Corrupt, format!("cannot decode OBJ: {e}"))
        })?;
    let mut vertices = Vec::new();
    let mut polygons = Vec::new();
    for model in &models {
        let m = &model.mesh;
        let base = vertices.len() as u64;
        vertices.extend(
            m.positions
                .chunks_exact(3)
                .map(|p| [f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]),
        );
        let mut at = 0usize;
        let arities: Vec<usize> = if m.face_arities.is_empty() {
            vec![3; m.indices.len() / 3]
        } else {
            m.face_arities.iter().map(|&a| a as usize).collect()
        };
        for a in arities {
            let Some(face) = m.indices.get(at..at + a) else {
                return Err(SignalError::new(
                    path,
                    ErrorKind::Corrupt,
                    "cannot decode OBJ: truncated face",
                ));
            };
            polygons.push(face.iter().map(|&i| base + u64::from(i)).collect());
            at += a;
        }
    }
    Ok((vertices, polygons))
}

fn read_stl(bytes: &[u8], path: &Path) -> Result<Parts, SignalError> {
    let text = bytes.len() < 84 || {
        let count = u32::from_le_bytes([bytes[80], bytes[81], bytes[82], bytes[83]]) as u64;
        84 + 50 * count != bytes.len() as u64 && bytes.trim_ascii_start().starts_with(b"solid")
    };
    if !text {
        let count = u32::from_le_bytes([bytes[80], bytes[81], bytes[82], bytes[83]]) as u64;
        let want = 84 + 50 * count;
        if want != bytes.len() as u64 {
            let cause = if want > bytes.len() as u64 { "truncated" } else { "trailing data" };
            return Err(SignalError::new(
                path,
                ErrorKind::Corrupt,
                format!(
                    "cannot decode binary STL: {cause}: the header says {count} triangles \
                     ({want} bytes), the file has {} bytes",
                    bytes.len()
                ),
            ));
        }
    }
    let mesh = stl_io::read_stl(&mut Cursor::new(bytes)).map_err(|e| {
        let cause = match e.kind() {
            std::io::ErrorKind::UnexpectedEof => "truncated data".to_string(),
            _ => e.to_string(),
        };
        SignalError::new(path, ErrorKind::Corrupt, format!("cannot decode STL: {cause}"))
    })?;
    let vertices = mesh.vertices.iter().map(|v| v.0.map(f64::from)).collect();
    let polygons =
        mesh.faces.iter().map(|f| f.vertices.iter().map(|&i| i as u64).collect()).collect();
    Ok((vertices, polygons))
}

fn read_ply(bytes: &[u8], path: &Path) -> Result<Parts, SignalError> {
    use ply_rs_bw::parser::Parser;
    use ply_rs_bw::ply::{DefaultElement, Property};
    let corrupt = |m: String| SignalError::new(path, ErrorKind::Corrupt, m);
    let ply = Parser::<DefaultElement>::new()
        .read_ply(&mut Cursor::new(bytes))
        .map_err(|e| corrupt(format!("cannot decode PLY: {e}")))?;
    let scalar = |p: &Property| -> Option<f64> {
        Some(match *p {
            Property::Char(v) => f64::from(v),
            Property::UChar(v) => f64::from(v),
            Property::Short(v) => f64::from(v),
            Property::UShort(v) => f64::from(v),
            Property::Int(v) => f64::from(v),
            Property::UInt(v) => f64::from(v),
            Property::Float(v) => f64::from(v),
            Property::Double(v) => v,
            _ => return None,
        })
    };
    let mut vertices = Vec::new();
    for (k, e) in
        ply.payload.get("vertex").map(Vec::as_slice).unwrap_or_default().iter().enumerate()
    {
        let mut v = [0.0; 3];
        for (c, name) in ["x", "y", "z"].iter().enumerate() {
            v[c] = e
                .get(*name)
                .and_then(scalar)
                .ok_or_else(|| corrupt(format!("PLY vertex {k} has no numeric {name}")))?;
        }
        vertices.push(v);
    }
    let mut polygons = Vec::new();
    for (k, e) in ply.payload.get("face").map(Vec::as_slice).unwrap_or_default().iter().enumerate()
    {
        let list = e.get("vertex_indices").or_else(|| e.get("vertex_index"));
        let negative = || corrupt(format!("PLY face {k} has a negative vertex index"));
        let face: Vec<u64> = match list {
            Some(Property::ListInt(l)) => l
                .iter()
                .map(|&i| u64::try_from(i).map_err(|_| negative()))
                .collect::<Result<_, _>>()?,
            Some(Property::ListUInt(l)) => l.iter().map(|&i| u64::from(i)).collect(),
            Some(Property::ListShort(l)) => l
                .iter()
                .map(|&i| u64::try_from(i).map_err(|_| negative()))
                .collect::<Result<_, _>>()?,
            Some(Property::ListUShort(l)) => l.iter().map(|&i| u64::from(i)).collect(),
            Some(Property::ListChar(l)) => l
                .iter()
                .map(|&i| u64::try_from(i).map_err(|_| negative()))
                .collect::<Result<_, _>>()?,
            Some(Property::ListUChar(l)) => l.iter().map(|&i| u64::from(i)).collect(),
            _ => return Err(corrupt(format!("PLY face {k} has no integer vertex_indices list"))),
        };
        polygons.push(face);
    }
    Ok((vertices, polygons))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tetrahedron() -> Mesh {
        let v = vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let f = vec![vec![0, 2, 1], vec![0, 1, 3], vec![0, 3, 2], vec![1, 2, 3]];
        Mesh::checked(v, f, Path::new("t")).unwrap()
    }

    #[test]
    fn obj_and_ply_written_read_back_equal() {
        let m = tetrahedron();
        for (bytes, name) in [(m.to_obj(), "a.obj"), (m.to_ply(), "a.ply")] {
            let back = Mesh::from_bytes(&bytes, Path::new(name)).unwrap();
            // The same triangles with the same corners (a reader may renumber vertices).
            let corners =
                |m: &Mesh| (0..m.triangles.len()).map(|t| m.corners(t)).collect::<Vec<_>>();
            assert_eq!(corners(&back), corners(&m), "{name}");
        }
    }

    #[test]
    fn stl_binary_and_ascii_read() {
        let m = tetrahedron();
        let tris: Vec<stl_io::Triangle> = (0..4)
            .map(|t| stl_io::Triangle {
                normal: stl_io::Normal::new([0.0; 3]),
                vertices: m.corners(t).map(|c| stl_io::Vertex::new(c.map(|x| x as f32))),
            })
            .collect();
        let mut bin = Vec::new();
        stl_io::write_stl(&mut bin, tris.iter()).unwrap();
        let back = Mesh::from_bytes(&bin, Path::new("x")).unwrap();
        assert_eq!(back.triangles.len(), 4);
        assert!((back.area() - m.area()).abs() < 1e-6);
        let mut ascii = String::from("solid t\n");
        for t in &tris {
            ascii.push_str("facet normal 0 0 0\nouter loop\n");
            for v in &t.vertices {
                ascii.push_str(&format!("vertex {} {} {}\n", v.0[0], v.0[1], v.0[2]));
            }
            ascii.push_str("endloop\nendfacet\n");
        }
        ascii.push_str("endsolid t\n");
        let back = Mesh::from_bytes(ascii.as_bytes(), Path::new("x")).unwrap();
        assert!((back.area() - m.area()).abs() < 1e-6);
        // Truncated binary STL, named .stl: a precise error.
        let e = Mesh::from_bytes(&bin[..bin.len() - 7], Path::new("x.stl")).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
    }

    #[test]
    fn bad_meshes_are_precise_errors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", "empty file"),
            (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", "out of bounds"),
            (b"v 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n", "non-finite"),
            (b"v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n", "degenerate"),
            (b"v 0 0 0\nv 1 0 0\n", "the mesh has no"),
            (b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n", "refers to vertex 7"),
            (b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nend_header\n0 0 0\n1 0\n", "PLY"),
        ];
        for (bytes, want) in cases {
            let e = Mesh::from_bytes(bytes, Path::new("m")).unwrap_err().to_string();
            assert!(e.contains(want), "{:?}: {e}", String::from_utf8_lossy(bytes));
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn normalisation_centres_and_scales_into_the_margin() {
        let m = tetrahedron().map(|v| [3.0 * v[0] + 10.0, 3.0 * v[1], 3.0 * v[2] - 2.0]);
        let n = m.normalisation();
        assert!((n.scale - 1.5 / MARGIN).abs() < 1e-12);
        let u = m.map(|v| n.forward(v));
        let (lo, hi) = u.bounds();
        for k in 0..3 {
            assert!((lo[k] + MARGIN).abs() < 1e-12 && (hi[k] - MARGIN).abs() < 1e-12);
        }
        let x = [1.0, 2.0, 3.0];
        let back = n.inverse(n.forward(x));
        assert!((0..3).all(|k| (back[k] - x[k]).abs() < 1e-12));
    }
}
