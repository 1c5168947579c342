//! Safe single-threaded f32 matrix products on row-major slices (matrixmultiply's sgemm).

/// Strides of an operand: `(row stride, column stride)` in elements.
type Strides = (usize, usize);

/// `c = a·b + beta·c` for an `m×k` operand `a` and a `k×n` operand `b` given by strides; `c`
/// is `m×n` row-major. Panics if a stride pattern reaches outside its slice.
#[allow(clippy::too_many_arguments)]
fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    sa: Strides,
    b: &[f32],
    sb: Strides,
    c: &mut [f32],
    beta: f32,
) {
    let reach = |rows: usize, cols: usize, (rs, cs): Strides| {
        if rows == 0 || cols == 0 { 0 } else { (rows - 1) * rs + (cols - 1) * cs + 1 }
    };
    assert!(reach(m, k, sa) <= a.len(), "lhs shape");
    assert!(reach(k, n, sb) <= b.len(), "rhs shape");
    assert!(m * n <= c.len(), "output shape");
    // SAFETY: the asserts above bound every index sgemm reads in a and b and writes in c
    // (m×n, row stride n); c is a distinct mutable borrow, so it aliases neither input.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            sa.0 as isize,
            sa.1 as isize,
            b.as_ptr(),
            sb.0 as isize,
            sb.1 as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// `c (m×n) = a (m×k) · b`, where `b` is `k×n` row-major, or its transpose when `b_transposed`
/// (then the slice holds `n×k` row-major, PyTorch's weight layout). Panics on wrong lengths.
pub fn matmul(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
    b_transposed: bool,
) {
    assert_eq!(a.len(), m * k, "lhs shape");
    assert_eq!(b.len(), k * n, "rhs shape");
    assert_eq!(c.len(), m * n, "output shape");
    let sb = if b_transposed { (1, k) } else { (n, 1) };
    sgemm(m, k, n, a, (k, 1), b, sb, c, 0.0);
}

/// `c (m×n) += aᵀ · b` for `a` `k×m` and `b` `k×n`, both row-major (weight gradients:
/// `dW += Gᵀ X`). Panics on wrong lengths.
pub fn matmul_at_b_acc(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    assert_eq!(a.len(), k * m, "lhs shape");
    assert_eq!(b.len(), k * n, "rhs shape");
    assert_eq!(c.len(), m * n, "output shape");
    sgemm(m, k, n, a, (1, m), b, (n, 1), c, 1.0);
}

#[cfg(test)]
mod tests {
    use super::{matmul, matmul_at_b_acc};

    #[test]
    fn matches_naive_products() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let mut c = vec![0.0; m * n];
        let mut ct = vec![0.0; m * n];
        matmul(&a, &b, &mut c, m, k, n, false);
        matmul(&a, &bt, &mut ct, m, k, n, true);
        // aᵀ·b with a k×m: use at = aᵀ stored k×m.
        let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
        let mut acc = vec![1.0; m * n];
        matmul_at_b_acc(&at, &b, &mut acc, m, k, n);
        for i in 0..m {
            for j in 0..n {
                let want: f32 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
                assert!((c[i * n + j] - want).abs() < 1e-5 && (ct[i * n + j] - want).abs() < 1e-5);
                assert!((acc[i * n + j] - 1.0 - want).abs() < 1e-5);
            }
        }
    }
}
