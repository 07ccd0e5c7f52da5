import{w as p,ak as t}from"./CQbTzsIM.js";import{B as c}from"./B78uD5HN.js";function f(a,r,...s){var e=new c(a);p(()=>{const n=r()??null;e.ensure(n,n&&(o=>n(o,...s)))},t)}export{f as s};
